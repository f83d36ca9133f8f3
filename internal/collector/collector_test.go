package collector_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/binance"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/binancesim"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// expected computes 1m candles in [from, to) from the simulator's trade log,
// fetched over its admin API: the test's independent source of truth.
func expected(t *testing.T, base, venue, symbol string, from, to int64) map[int64]string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/admin/trades?venue=%s&symbol=%s&from=0&to=%d", base, venue, symbol, to))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	type agg struct {
		o, h, l, c, v, q market.Decimal
		n                int64
	}
	bins := map[int64]*agg{}
	var prevClose market.Decimal
	closes := map[int64]market.Decimal{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var tr sim.TradeJSON
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatal(err)
		}
		p, s, q := market.MustDecimal(tr.Price), market.MustDecimal(tr.Size), market.MustDecimal(tr.Quote)
		m := market.I1m.Truncate(tr.Time)
		b := bins[m]
		if b == nil {
			b = &agg{o: p, h: p, l: p}
			bins[m] = b
		}
		if p.GreaterThan(b.h) {
			b.h = p
		}
		if p.LessThan(b.l) {
			b.l = p
		}
		b.c, b.v, b.q, b.n = p, b.v.Add(s), b.q.Add(q), b.n+tr.Last-tr.First+1
		closes[m] = p
	}
	out := map[int64]string{}
	for m := from - 600*60_000; m < to; m += 60_000 {
		if b := bins[m]; b != nil {
			prevClose = b.c
			if m >= from {
				out[m] = fmt.Sprintf("%s/%s/%s/%s/%s/%s/%d", b.o, b.h, b.l, b.c, b.v, b.q, b.n)
			}
		} else if m >= from {
			out[m] = fmt.Sprintf("%s/%s/%s/%s/0/0/0", prevClose, prevClose, prevClose, prevClose)
		}
	}
	return out
}

func brief(c market.Candle) string {
	return fmt.Sprintf("%s/%s/%s/%s/%s/%s/%d", c.Open, c.High, c.Low, c.Close, c.Volume, c.Quote, c.Trades)
}

func TestBinanceThroughFaults(t *testing.T) {
	const speed = 60 // one simulated minute per real second
	s := sim.New(sim.Config{Seed: 42, Speed: speed})
	binancesim.Mount(s, "/binance")
	srv := httptest.NewServer(s)
	defer srv.Close()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	btc := market.Default
	fast := upstream.Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	feed := binance.NewFeed(binance.Config{WSURL: "ws" + srv.URL[4:] + "/binance", Backoff: fast})
	rest := &binance.REST{Base: srv.URL + "/binance", HTTP: &upstream.HTTP{Venue: "binance", Backoff: fast}}
	c, err := collector.New(collector.Config{Store: st, Venues: []collector.Venue{{Name: "binance", Feed: feed, REST: rest,
		Markets: []market.Market{btc}, FinalGrace: 5 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()

	start := market.I1m.Truncate(s.Clock.Now()) // the minute the collector joins mid-way
	time.Sleep(2500 * time.Millisecond)
	s.Faults.Inject("binance", sim.FaultDrop, 0)
	s.Faults.Inject("binance", sim.FaultRefuse, 20*time.Second) // reconnects refused for a while
	time.Sleep(2 * time.Second)
	s.Faults.Inject("binance", sim.FaultSkipFinal, 0)
	s.Faults.Inject("binance", sim.FaultMalformed, 0)
	time.Sleep(3500 * time.Millisecond)
	cancel()
	<-done

	end := market.I1m.Truncate(s.Clock.Now()) - 2*60_000 // finals due by now
	want := expected(t, srv.URL, "binance", "BTCUSDT", start, end)
	got, err := st.Candles(context.Background(), btc, market.I1m, start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 5 || len(got) != len(want) {
		for _, g := range got {
			t.Logf("got %d %s %s", g.OpenTime, g.State, g.Source)
		}
		t.Logf("start %d end %d", start, end)
		gaps, _ := st.Gaps(context.Background(), btc, 0, 1<<62)
		t.Logf("gaps %+v", gaps)
		t.Fatalf("stored %d minutes, want %d", len(got), len(want))
	}
	for _, g := range got {
		if g.State != market.Reconciled || brief(g) != want[g.OpenTime] {
			t.Errorf("minute %d: %s %s (%s), want %s", g.OpenTime, g.State, brief(g), g.Source, want[g.OpenTime])
		}
	}
	gaps, _ := st.Gaps(context.Background(), btc, 0, 1<<62)
	filled := 0
	for _, g := range gaps {
		t.Logf("gap %+v", g)
		if g.Status == store.GapFilled {
			filled += g.Filled
		}
	}
	if filled == 0 {
		t.Error("the drop and the skipped final left no filled gap in the ledger")
	}
	// Rollups: every complete 5m bin must be reconciled and match its minutes.
	fives, _ := st.Candles(context.Background(), btc, market.I5m, start, end)
	for _, f := range fives {
		if f.OpenTime+5*60_000 <= end && f.State != market.Reconciled {
			t.Errorf("5m bin %d is %s", f.OpenTime, f.State)
		}
	}
}
