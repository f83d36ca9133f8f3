package coinbase

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// finals records what a feed delivers: every final, every trade id.
type finals struct {
	mu     sync.Mutex
	got    map[market.Market][]market.Candle
	trades map[market.Market]int
	live   map[market.Market]int
	skips  int
}

func newFinals() *finals {
	return &finals{got: map[market.Market][]market.Candle{}, trades: map[market.Market]int{}, live: map[market.Market]int{}}
}

func (f *finals) Trades(ts []market.Trade) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range ts {
		f.trades[t.Market]++
	}
}
func (f *finals) Bin(c market.Candle) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.State == market.Reconciled {
		f.got[c.Market] = append(f.got[c.Market], c)
	}
}
func (f *finals) Live(ms []market.Market) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range ms {
		f.live[m]++
	}
}

// allLive reports whether every one of ms went live.
func (f *finals) allLive(ms []market.Market) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range ms {
		if f.live[m] == 0 {
			return false
		}
	}
	return true
}

func (f *finals) Down([]market.Market)       {}
func (f *finals) Skip(string, string, error) { f.mu.Lock(); f.skips++; f.mu.Unlock() }

var _ upstream.Sink = (*finals)(nil)

// TestFeedBuildsExactFinals collects 5 products, 2 per connection, for
// four simulated minutes from when every product is live, with a match
// lost in the third: every final the feed makes equals the candle
// computed from the simulator's trade log, each minute at most once, and
// the minute that lost a match gets none. The window is the simulator's,
// counted from when the feed is live, so a slow start on a loaded machine
// only delays it.
func TestFeedBuildsExactFinals(t *testing.T) {
	s, ep, base := exchangetest.Sim(t, sim.Config{Seed: 5, Speed: 120, History: 10 * time.Minute}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, PerConn: 2, Config: upstream.Config{Metrics: met}})
	var ms []market.Market
	for i := range 5 {
		ms = append(ms, Market(fmt.Sprintf("C%d-USD", i)))
	}
	sink := newFinals()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); feed.Run(ctx, ms, sink) }() //nolint:errcheck // ends with ctx
	for !sink.allLive(ms) {
		if ctx.Err() != nil {
			t.Fatal("the products were not all live within 60 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	begin := market.I1m.Truncate(s.Clock.Now()) + 60_000
	end := begin + 4*60_000
	// The match lost is the next one the simulator sends on any
	// connection: mid-minute, so that one a connection's tick sends late
	// (at 120x a 20 ms tick is 2.4 simulated seconds, more when the
	// machine is loaded) is of the third minute, not the second's last.
	waitSim(s, begin+2*60_000+30_000)
	s.Faults.Inject(Venue, sim.FaultSkipFinal, 0) //nolint:errcheck // a known kind
	waitSim(s, end+30_000)                        // the last minute's finals are made
	cancel()
	<-done
	total := 0
	for _, m := range ms {
		want, err := oracle.Expected(base, m, Driver.Sim.Convention, 0, s.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for _, c := range sink.got[m] {
			if seen[c.OpenTime] || oracle.Brief(c) != want[c.OpenTime] {
				t.Errorf("%s minute %d: final %s (again: %v), want %s", m, c.OpenTime, oracle.Brief(c), seen[c.OpenTime], want[c.OpenTime])
			}
			seen[c.OpenTime] = true
		}
		in := 0
		for t := begin; t < end; t += 60_000 {
			if seen[t] {
				in++
			}
		}
		total += in
		if in < 2 || sink.trades[m] == 0 || sink.live[m] != 1 {
			t.Errorf("%s: %d finals in the window, %d trades, live %d", m, in, sink.trades[m], sink.live[m])
		}
	}
	if total >= 5*4 {
		t.Errorf("%d finals in the window: the lost match withheld none", total)
	}
	if n := testutil.ToFloat64(met.Connects.WithLabelValues(Venue, "ok")); n != 3 || sink.skips != 0 {
		t.Errorf("%v connects (want 3), %d skipped", n, sink.skips)
	}
}

// waitSim sleeps until the simulator's clock reaches ms.
func waitSim(s *sim.Server, ms int64) {
	if d := ms - s.Clock.Now(); d > 0 {
		time.Sleep(s.Clock.Real(time.Duration(d) * time.Millisecond))
	}
}

// TestFeedLeavesOutARefusedProduct: Coinbase refuses a whole subscribe for
// one product it does not know; the feed counts it, leaves it out and
// subscribes the others again, which then collect as usual.
func TestFeedLeavesOutARefusedProduct(t *testing.T) {
	_, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 6, Speed: 60, History: 10 * time.Minute}, Driver)
	feed := NewFeed(Config{WSURL: ep.WSURL})
	good, bad := []market.Market{Market("C1-USD"), Market("C2-USD")}, Market("no such product")
	sink := newFinals()
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	feed.Run(ctx, []market.Market{good[0], bad, good[1]}, sink)
	for _, m := range good {
		if sink.live[m] != 1 || sink.trades[m] == 0 || len(sink.got[m]) == 0 {
			t.Errorf("%s: live %d, %d trades, %d finals", m, sink.live[m], sink.trades[m], len(sink.got[m]))
		}
	}
	if sink.live[bad] != 0 || sink.skips != 1 {
		t.Errorf("the refused product: live %d; %d skips counted, want 1", sink.live[bad], sink.skips)
	}
}
