package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/config"
)

func TestDistribution(t *testing.T) {
	for _, tc := range []struct {
		name string
		ms   []float64
		want Latency
	}{
		{"none", nil, Latency{}},
		{"one", []float64{7}, Latency{Samples: 1, P50: 7, P99: 7, Max: 7}},
		{"unsorted", []float64{5, 1, 3, 2, 4}, Latency{Samples: 5, P50: 3, P99: 5, Max: 5}},
	} {
		if got := distribution(tc.ms); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestSimClockWallOf(t *testing.T) {
	c := simClock{sim: 60_000, wall: 1_000_000, speed: 10}
	for sim, want := range map[int64]int64{60_000: 1_000_000, 70_000: 1_001_000, 50_000: 999_000} {
		if got := c.wallOf(sim); got != want {
			t.Errorf("wallOf(%d) = %d, want %d", sim, got, want)
		}
	}
}

func TestProcUsage(t *testing.T) {
	u, err := procUsage(os.Getpid())
	if err != nil {
		t.Skip(err) // not Linux
	}
	if u.cpu <= 0 || u.rss <= 0 || u.peak < u.rss {
		t.Errorf("%+v", u)
	}
}

func TestMetricSum(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("# HELP x\n" + //nolint:errcheck // a test server
			"candlewire_feed_changes_total{from=\"bus\"} 7\ncandlewire_feed_changes_total{from=\"store\"} 3\n" +
			"candlewire_feed_changes_total_other 100\ncandlewire_store_write_seconds_sum 1.5\n"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		metric, label string
		want          float64
	}{
		{"candlewire_feed_changes_total", `from="bus"`, 7},
		{"candlewire_feed_changes_total", "", 10},
		{"candlewire_store_write_seconds_sum", "", 1.5},
		{"candlewire_absent", "", 0},
	} {
		if got, err := metricSum(context.Background(), srv.URL, tc.metric, tc.label); err != nil || got != tc.want {
			t.Errorf("%s %s: %v, %v; want %v", tc.metric, tc.label, got, err, tc.want)
		}
	}
}

// TestChildConfigHoldsASimulatedSecond: the nodes the benches start
// against a simulator in another process hold forming bins for a second
// of its time, in a config that parses.
func TestChildConfigHoldsASimulatedSecond(t *testing.T) {
	for speed, want := range map[float64]time.Duration{1: time.Second, 10: 100 * time.Millisecond, 30: 33_333_333, 5000: time.Millisecond} {
		c, err := config.Parse([]byte(childConfig(speed)))
		if err != nil || c.FormingEvery != want || c.Serve.MaxConnsPerIP != -1 {
			t.Errorf("speed %v: forming_every %v, max_conns_per_ip %d, %v; want %v, -1", speed, c.FormingEvery, c.Serve.MaxConnsPerIP, err, want)
		}
	}
}

// TestTradeToClientTimesEveryTrade: each trade is timed once, to the first
// revision in the window that shows it, per probe; a revision no prefix of
// the trades makes shows none, nor one a probe received again.
func TestTradeToClientTimesEveryTrade(t *testing.T) {
	// Bin 60,000: trades at 60,100 (1), 60,200 (2) and 60,300 (0.5); bin 120,000: one at 120,100.
	log := `{"time":60100,"size":"1"}
{"time":60200,"size":"2"}
{"time":60300,"size":"0.5"}
{"time":120100,"size":"4"}
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(log)) //nolint:errcheck // a test server
	}))
	defer srv.Close()
	clock := simClock{sim: 0, wall: 0, speed: 1}
	const s = "binance:BTCUSDT@1m"
	rev := func(t int64, v string, at int64) probeSeen { return probeSeen{stream: s, t: t, v: v, at: at} }
	for _, tc := range []struct {
		name string
		seen [][]probeSeen
		want []float64 // sorted
	}{
		{"each revision one trade", [][]probeSeen{{rev(60_000, "1", 60_150), rev(60_000, "3", 60_250), rev(60_000, "3.5", 60_350)}}, []float64{50, 50, 50}},
		{"three trades in one revision", [][]probeSeen{{rev(60_000, "3.50", 61_000)}}, []float64{700, 800, 900}},
		{"a kline's volume shows none; the next shows them", [][]probeSeen{{rev(60_000, "2.9", 60_250), rev(60_000, "3", 60_260)}}, []float64{60, 160}},
		{"again after a reconnect", [][]probeSeen{{rev(60_000, "3", 60_250), rev(60_000, "1", 60_400), rev(60_000, "3", 60_400)}}, []float64{50, 150}},
		{"each probe", [][]probeSeen{{rev(60_000, "1", 60_150)}, {rev(60_000, "1", 60_110)}}, []float64{10, 50}},
		{"shown before the window: not timed", [][]probeSeen{{rev(60_000, "1", 50_000), rev(60_000, "3", 60_250), rev(120_000, "4", 120_200)}}, []float64{50, 100}},
	} {
		got, err := tradeToClient(context.Background(), srv.Listener.Addr().String(), clock, tc.seen, 60_000, 200_000)
		if want := distribution(tc.want); err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, want)
		}
	}
}
