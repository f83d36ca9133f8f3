package retention

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// fill stores n bins of iv for m, the newest ending at end.
func fill(t *testing.T, st *store.Memory, m market.Market, iv market.Interval, n int, end int64) {
	t.Helper()
	var cs []market.Candle
	p := market.MustDecimal("1")
	for i := range n {
		cs = append(cs, market.Candle{Market: m, Interval: iv, OpenTime: end - int64(n-i)*iv.Millis(), Open: p, High: p, Low: p, Close: p,
			State: market.Reconciled, Source: market.SourceREST})
	}
	if _, err := st.Upsert(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
}

// TestPassKeepsEachIntervalsSpan: a pass deletes the bins of a retained
// interval that ended before the span, in chunks, counts them by
// interval, and keeps every other interval, and every bin within.
func TestPassKeepsEachIntervalsSpan(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	end := now.UnixMilli()
	st := store.NewMemory(nil)
	btc, eth := market.Default, market.Market{Venue: "binance", Symbol: "ETHUSDT"}
	for _, m := range []market.Market{btc, eth} {
		fill(t, st, m, market.I1m, 3*chunk, end) // 10,000+ minutes: more than two chunks
		fill(t, st, m, market.I1h, 500, end)
	}
	deleted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "d"}, []string{"interval"})
	r := New(st, Config{Spans: map[market.Interval]time.Duration{market.I1m: 24 * time.Hour, market.I1d: 30 * 24 * time.Hour},
		Keep: time.Hour, Now: func() time.Time { return now }, Deleted: deleted})
	if got := testutil.ToFloat64(deleted.WithLabelValues("1d")); got != 0 {
		t.Fatalf("1d counter %v before any pass", got)
	}
	n, err := r.Pass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keepFrom := now.Add(-24*time.Hour).UnixMilli() - market.I1m.Millis() // bins that opened at or after it ended within the day
	for _, m := range []market.Market{btc, eth} {
		got, _ := st.Candles(ctx, m, market.I1m, 0, end)
		if len(got) == 0 || got[0].OpenTime != keepFrom || got[len(got)-1].OpenTime != end-60_000 {
			t.Fatalf("%s 1m after the pass: %d bins from %d, want from %d to %d", m, len(got), got[0].OpenTime, keepFrom, end-60_000)
		}
		if hours, _ := st.Candles(ctx, m, market.I1h, 0, end); len(hours) != 500 {
			t.Fatalf("%s 1h: %d bins after the pass, want all 500", m, len(hours))
		}
	}
	want := int64(2 * (3*chunk - 1441))
	if n != want || testutil.ToFloat64(deleted.WithLabelValues("1m")) != float64(want) {
		t.Fatalf("deleted %d (counted %v), want %d", n, testutil.ToFloat64(deleted.WithLabelValues("1m")), want)
	}
	if n, err := r.Pass(ctx); n != 0 || err != nil {
		t.Fatalf("a second pass deleted %d, %v", n, err)
	}
}

// TestKeepsBehindTheNewest: a series no longer written keeps Keep behind
// its newest bin, however old: what gap repair and the rollup rebuild
// would read and write again at the next start is never deleted.
func TestKeepsBehindTheNewest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	st := store.NewMemory(nil)
	stopped := now.Add(-30 * 24 * time.Hour).UnixMilli() // collected until a month ago
	fill(t, st, market.Default, market.I1m, 3*1440, stopped)
	r := New(st, Config{Spans: map[market.Interval]time.Duration{market.I1m: 8 * 24 * time.Hour}, Keep: 24 * time.Hour,
		Now: func() time.Time { return now }})
	n, err := r.Pass(ctx)
	newest := stopped - 60_000
	if err != nil || n != 3*1440-1441 {
		t.Fatalf("deleted %d, %v; want all but the day behind the newest minute", n, err)
	}
	left, _ := st.Candles(ctx, market.Default, market.I1m, 0, stopped)
	if len(left) != 1441 || left[0].OpenTime != newest-24*3600_000 {
		t.Fatalf("%d minutes left from %d, want the day behind the newest, %d from %d", len(left), left[0].OpenTime, 1441, newest-24*3600_000)
	}
}

// TestRunWithoutSpansWaits: with nothing to keep a bound on, Run does
// nothing until it is stopped.
func TestRunWithoutSpansWaits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	st := store.NewMemory(nil)
	fill(t, st, market.Default, market.I1m, 10, 0)
	if err := New(st, Config{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Candles(context.Background(), market.Default, market.I1m, -1e12, 1e12); len(got) != 10 {
		t.Fatalf("%d bins left, want 10", len(got))
	}
}
