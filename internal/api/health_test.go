package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	coll "github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
)

// world is a fake collector and store for the health: a clock, what the
// probe reads, and the newest final.
type world struct {
	mu    sync.Mutex
	now   time.Time
	p     reading
	final int64 // open time of the newest final, 0 for none
	err   error // what reading the store returns
}

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }

func (w *world) add(d time.Duration) { w.mu.Lock(); defer w.mu.Unlock(); w.now = w.now.Add(d) }

func (w *world) probe() reading {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.p
	p.connected = map[string]bool{"binance": w.p.connected["binance"]}
	return p
}

func (w *world) LastReconciled(context.Context, market.Market, market.Interval) (int64, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.final, w.final != 0, w.err
}

// Steps: what happens in one second of the fake world.
func storing(w *world) {
	w.p.connected["binance"] = true
	w.p.attempts++
	w.p.stored += 3
	w.final = market.I1m.Truncate(w.now.UnixMilli()) - market.I1m.Millis() // the minute that just closed
}

// replaying stores finals of 2020, one a minute, as a replay of old
// recordings does.
func replaying(w *world) {
	storing(w)
	w.final = w.final - time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
}

// ahead stores finals a day ahead of the clock, as a time-compressed
// simulator does.
func ahead(w *world) { storing(w); w.final += 24 * time.Hour.Milliseconds() }

func failing(w *world) { w.p.connected["binance"] = true; w.p.attempts++ }

func offline(w *world) { w.p.connected["binance"] = false }

// phase runs step every second for d, sampling as run's watch does.
type phase struct {
	d    time.Duration
	step func(*world)
}

// TestHealthz: /healthz says ok only while candles are stored; failing
// writes, a venue without a connection past its silence timeout and a late
// final make it degraded (200); nothing stored (failing writes for 30 s,
// or no venue and nothing stored for 2 minutes) or an unreadable store
// make it down (503).
func TestHealthz(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		phases  []phase
		readErr error
		code    int
		status  string
		reasons []string
	}{
		{name: "storing", phases: []phase{{5 * time.Minute, storing}}, code: 200, status: "ok"},
		{name: "just started", phases: []phase{{30 * time.Second, func(w *world) { w.p.connected["binance"] = true }}}, code: 200, status: "ok"},
		{name: "one failed write", phases: []phase{{3 * time.Minute, storing}, {2 * time.Second, failing}}, code: 200, status: "ok"},
		{name: "writes failing", phases: []phase{{3 * time.Minute, storing}, {10 * time.Second, failing}}, code: 200, status: "degraded",
			reasons: []string{"store writes failing for 9s, none stored"}},
		{name: "writes failing, then stored", phases: []phase{{3 * time.Minute, storing}, {20 * time.Second, failing}, {time.Second, storing}},
			code: 200, status: "ok"},
		{name: "every write failing", phases: []phase{{3 * time.Minute, storing}, {40 * time.Second, failing}}, code: 503, status: "down",
			reasons: []string{"store writes failing for 39s, none stored"}},
		// Nothing to write for minutes, then one write fails: no outage of the
		// store (the final is late, though).
		{name: "quiet, then one failed write", phases: []phase{{3 * time.Minute, storing}, {3 * time.Minute, func(w *world) { w.p.connected["binance"] = true }},
			{time.Second, failing}}, code: 200, status: "degraded", reasons: []string{"no new final"}},
		{name: "venue gone", phases: []phase{{3 * time.Minute, storing}, {61 * time.Second, offline}}, code: 200, status: "degraded",
			reasons: []string{"venue binance: no connection for 1m1s (silence timeout 1m0s)"}},
		{name: "venue gone, nothing stored", phases: []phase{{3 * time.Minute, storing}, {3 * time.Minute, offline}}, code: 503, status: "down",
			reasons: []string{"venue binance: no connection for 3m0s", "nothing stored for 3m0s and no venue connected", "market binance:BTCUSDT: no new final"}},
		{name: "never connected", phases: []phase{{3 * time.Minute, offline}}, code: 503, status: "down",
			reasons: []string{"venue binance: no connection for 3m0s", "nothing stored for 3m0s", "newest none"}},
		{name: "final late", phases: []phase{{3 * time.Minute, storing}, {2 * time.Minute, func(w *world) { w.p.connected["binance"] = true }}},
			code: 200, status: "degraded", reasons: []string{"market binance:BTCUSDT: no new final for"}},
		{name: "replay of old recordings", phases: []phase{{5 * time.Minute, replaying}}, code: 200, status: "ok"},
		{name: "simulator ahead, stalled", phases: []phase{{3 * time.Minute, ahead}, {2 * time.Minute, func(w *world) { w.p.connected["binance"] = true }}},
			code: 200, status: "degraded", reasons: []string{"market binance:BTCUSDT: no new final for 2m"}},
		{name: "store unreadable", phases: []phase{{time.Minute, storing}}, readErr: errors.New("disk I/O error"), code: 503, status: "down",
			reasons: []string{"store unavailable: disk I/O error"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := &world{now: time.Date(2026, 11, 28, 12, 0, 30, 0, time.UTC), p: reading{connected: map[string]bool{}}}
			m := market.Market{Venue: "binance", Symbol: "BTCUSDT"}
			h := newHealth(w, []market.Market{m}, map[string]VenueWatch{"binance": {Silence: time.Minute, Grace: 10 * time.Second}}, w.probe, w.clock)
			for _, ph := range c.phases {
				for range int(ph.d / time.Second) {
					w.mu.Lock()
					w.now = w.now.Add(time.Second)
					ph.step(w)
					w.mu.Unlock()
					h.sample()
				}
			}
			w.mu.Lock()
			w.err = c.readErr
			w.mu.Unlock()
			code, rep := getHealthz(t, h)
			if code != c.code || rep.Status != c.status {
				t.Fatalf("%d %q %q, want %d %q", code, rep.Status, rep.Reasons, c.code, c.status)
			}
			text := strings.Join(rep.Reasons, "\n")
			for _, want := range c.reasons {
				if !strings.Contains(text, want) {
					t.Errorf("reasons %q lack %q", rep.Reasons, want)
				}
			}
			if len(c.reasons) == 0 && len(rep.Reasons) != 0 {
				t.Errorf("reasons %q, want none", rep.Reasons)
			}
		})
	}
}

// getHealthz asks h over a real socket.
func getHealthz(t *testing.T, h *Health) (int, healthReport) {
	t.Helper()
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	return getReport(t, srv.URL+"/healthz")
}

func getReport(t *testing.T, url string) (int, healthReport) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep healthReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	code := resp.StatusCode
	if rep.Reasons == nil {
		t.Fatal(`no "reasons" list`)
	}
	return code, rep
}

// TestMetricsProbe: the probe reads connections and store writes from the
// collector's metrics: a write observed without rows accounted failed.
func TestMetricsProbe(t *testing.T) {
	t.Parallel()
	met := metrics.New(prometheus.NewRegistry())
	read := probeOf(met, []string{"binance", "okx"})
	if p := read(); p.connected["binance"] || p.attempts != 0 || p.stored != 0 {
		t.Fatalf("idle: %+v", p)
	}
	met.Connected.WithLabelValues("binance").Inc()
	met.StoreWrite.Observe(0.01) // a write that failed
	if p := read(); !p.connected["binance"] || p.connected["okx"] || p.attempts != 1 || p.stored != 0 {
		t.Fatalf("after a failed write: %+v", p)
	}
	met.StoreWrite.Observe(0.01) // one that stored 2 changed rows and 1 replay
	met.CandleWrites.WithLabelValues("changed").Add(2)
	met.CandleWrites.WithLabelValues("unchanged").Add(1)
	if p := read(); p.attempts != 2 || p.stored != 3 {
		t.Fatalf("after a stored write: %+v", p)
	}
}

// fullStore fails every write while full is set, as SQLite does when the
// disk is full.
type fullStore struct {
	*store.Memory
	full atomic.Bool
}

func (f *fullStore) Write(ctx context.Context, cs []market.Candle, d store.Derive) (store.Result, store.Result, error) {
	if f.full.Load() {
		return store.Result{}, store.Result{}, errors.New("database or disk is full")
	}
	return f.Memory.Write(ctx, cs, d)
}

// TestHealthSeesTheWriterFail: the collector's writer, failing every
// write, makes /healthz down through the metrics it keeps; once the store
// takes writes again it is ok.
func TestHealthSeesTheWriterFail(t *testing.T) {
	t.Parallel()
	met := metrics.New(prometheus.NewRegistry())
	st := &fullStore{Memory: store.NewMemory(nil)}
	st.full.Store(true)
	w := coll.NewWriter(st, nil, slog.New(slog.DiscardHandler), met, 5*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	fake := &world{now: time.Now()}
	h := newHealth(st, nil, map[string]VenueWatch{}, probeOf(met, nil), fake.clock)
	p := market.MustDecimal("1")
	w.Put(market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: 60_000, Open: p, High: p, Low: p, Close: p, State: market.Reconciled})
	waitFor(t, "a failed write", func() bool { h.sample(); return !h.failSinceZero() })
	fake.add(40 * time.Second)
	if code, rep := getHealthz(t, h); code != 503 || !strings.Contains(strings.Join(rep.Reasons, "\n"), "store writes failing") {
		t.Fatalf("writes failing for 40 s: %d %+v", code, rep)
	}
	st.full.Store(false)
	waitFor(t, "a stored write", func() bool { h.sample(); return h.failSinceZero() })
	if code, rep := getHealthz(t, h); code != 200 || rep.Status != "ok" {
		t.Fatalf("writes stored again: %d %+v", code, rep)
	}
}

func (h *Health) failSinceZero() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.failSince.IsZero() }
