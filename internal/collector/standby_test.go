package collector_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// assigned is a fixed assignment: the collector collects every market
// and owns own.
type assigned struct{ collect, own []market.Market }

func (a assigned) Markets(string) (collect, own []market.Market) { return a.collect, a.own }
func (a assigned) Changed() <-chan struct{}                      { return make(chan struct{}) }

// TestStandbyWritesOnlyWhatIsOver: of the two markets a collector
// collects, it owns one and stands by for the other; it writes the owned
// market's forming bins, and of the other only the bins that are over,
// every one of them final in the end.
func TestStandbyWritesOnlyWhatIsOver(t *testing.T) {
	d, err := registry.Lookup("binance")
	if err != nil {
		t.Fatal(err)
	}
	owned, standby := market.Market{Venue: "binance", Symbol: d.Sim.BenchSymbol(0)}, market.Market{Venue: "binance", Symbol: d.Sim.BenchSymbol(1)}
	s := sim.New(sim.Config{Seed: 7, Speed: 60})
	registry.MountSims(s)
	srv := httptest.NewServer(s)
	defer srv.Close()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	met := metrics.New(prometheus.NewRegistry())
	v := venueOf(d)(srv.URL, met)
	v.Markets = []market.Market{owned, standby}
	rec := &storetest.Recorder{}
	c, err := collector.New(collector.Config{Store: st, Venues: []collector.Venue{v}, Metrics: met, Publisher: rec,
		Assign: assigned{collect: v.Markets, own: []market.Market{owned}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	start := market.I1m.Truncate(s.Clock.Now()) + 60_000
	end := start + 3*60_000
	// Until both markets' minutes [start, end) are final: a minute at most.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if finals(t, st, owned, start, end) == 3 && finals(t, st, standby, start, end) == 3 {
			break
		}
	}
	cancel()
	<-done
	forming := map[market.Market]int{}
	for _, cd := range rec.Got() {
		if cd.Interval == market.I1m && !cd.Over() {
			forming[cd.Market]++
		}
	}
	t.Logf("forming %v", forming)
	if forming[owned] == 0 || forming[standby] != 0 {
		t.Errorf("forming versions written: %d of the owned market, %d of the standby's (want some, none)", forming[owned], forming[standby])
	}
	if n := finals(t, st, standby, start, end); n != 3 {
		t.Errorf("the standby's market has %d of 3 minutes final", n)
	}
	if skipped := testutil.ToFloat64(met.StandbySkipped); skipped == 0 {
		t.Error("no forming version counted as left to the owner")
	}
}

func finals(t *testing.T, st interface {
	Candles(context.Context, market.Market, market.Interval, int64, int64) ([]market.Candle, error)
}, m market.Market, from, to int64) int {
	t.Helper()
	cs, err := st.Candles(context.Background(), m, market.I1m, from, to)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.Final() {
			n++
		}
	}
	return n
}
