package collector

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// fixedAssign gives this collector ms to collect and own, and never
// changes.
type fixedAssign struct{ ms []market.Market }

func (a fixedAssign) Markets(string) (collect, own []market.Market) { return a.ms, a.ms }
func (fixedAssign) Changed() <-chan struct{}                        { return make(chan struct{}) }

// downStore is a memory store whose first failing reads of a market's
// history fail, as while the database restarts.
type downStore struct {
	*store.Memory
	failing atomic.Int32
	reads   atomic.Int32
}

func (s *downStore) Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
	s.reads.Add(1)
	if s.failing.Add(-1) >= 0 {
		return nil, errors.New("the database system is starting up")
	}
	return s.Memory.Page(ctx, m, iv, from, to, limit)
}

// TestAssignedVenueStartsOnceTheStoreIsBack: a collector whose assignment
// came while the store could not be read starts collecting once it can,
// without waiting for another assignment (a cluster's database restarting
// while its markets moved left a venue uncollected on that node, and its
// markets unrepaired, for good).
func TestAssignedVenueStartsOnceTheStoreIsBack(t *testing.T) {
	m := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	st := &downStore{Memory: store.NewMemory(nil)}
	st.failing.Store(2)
	c, err := New(Config{Store: st, FlushEvery: 10 * time.Millisecond, Assign: fixedAssign{[]market.Market{m}},
		Logger: discardLogger(), Venues: []Venue{{Name: "okx", Feed: scriptFeed{m}, REST: restAll{}, Markets: []market.Market{m},
			FinalGrace: time.Second, Bins: candle.Options{Unmergeable: true, NoCount: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Candles(context.Background(), m, market.I1m, base, base+14*60_000)
	if len(got) != 14 || st.reads.Load() < 3 {
		t.Fatalf("%d minutes stored after %d reads of where the market stood; want 14, after the 2 that failed", len(got), st.reads.Load())
	}
	for _, c := range got {
		if c.State != market.Reconciled {
			t.Errorf("minute %d is %s", c.OpenTime, c.State)
		}
	}
}

// switchAssign is an assignment the test changes.
type switchAssign struct {
	mu           sync.Mutex
	collect, own []market.Market
	changed      chan struct{}
}

func (a *switchAssign) Markets(string) (collect, own []market.Market) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.collect, a.own
}

func (a *switchAssign) Changed() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.changed
}

func (a *switchAssign) setOwn(own []market.Market) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.own = own
	close(a.changed)
	a.changed = make(chan struct{})
}

// ownFeed plays scriptFeed's minutes 0-13 (its bins down over minutes
// 5-9), then, once more is closed, minutes 14-16; it counts its runs.
type ownFeed struct {
	m    market.Market
	more chan struct{}
	runs atomic.Int32
}

func (f *ownFeed) Run(ctx context.Context, ms []market.Market, sink upstream.Sink) error {
	f.runs.Add(1)
	p := market.MustDecimal("100")
	seq := int64(0)
	play := func(minute int, final bool) {
		seq++
		sink.Trades([]market.Trade{{Market: f.m, Time: base + int64(minute)*60_000 + 30_000, Price: p, Size: p, Quote: p, FirstSeq: seq, LastSeq: seq}})
		if final {
			sink.Bin(market.Candle{Market: f.m, Interval: market.I1m, OpenTime: base + int64(minute)*60_000, Open: p, High: p, Low: p,
				Close: p, Volume: p, Quote: p, State: market.Reconciled, Source: market.SourceKline})
		}
		time.Sleep(10 * time.Millisecond)
	}
	sink.Live(ms)
	for m := range 14 {
		if m == 5 {
			sink.Down(ms)
		}
		if m == 10 {
			sink.Live(ms)
		}
		play(m, m < 5 || m >= 10)
	}
	select {
	case <-f.more:
	case <-ctx.Done():
		return nil
	}
	for m := 14; m < 17; m++ {
		play(m, true)
	}
	<-ctx.Done()
	return nil
}

// TestOwnershipMovesInPlace: a standby that becomes a market's owner
// keeps its feed (started once) and repairs, over REST, the minutes its
// connection missed while it only stood by.
func TestOwnershipMovesInPlace(t *testing.T) {
	m := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	st := store.NewMemory(nil)
	a := &switchAssign{collect: []market.Market{m}, changed: make(chan struct{})}
	feed := &ownFeed{m: m, more: make(chan struct{})}
	c, err := New(Config{Store: st, FlushEvery: 10 * time.Millisecond, Assign: a, Logger: discardLogger(),
		Venues: []Venue{{Name: "okx", Feed: feed, REST: restAll{}, Markets: []market.Market{m}, FinalGrace: time.Second,
			Bins: candle.Options{Unmergeable: true, NoCount: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }() //nolint:errcheck // ends with ctx
	defer func() { cancel(); <-done }()
	states := func() map[market.State]int {
		got, _ := st.Candles(context.Background(), m, market.I1m, base, base+17*60_000)
		n := map[market.State]int{}
		for _, c := range got {
			n[c.State]++
		}
		return n
	}
	waitFor(t, "minutes 0-4 and 10-13 final", func() bool { return states()[market.Reconciled] == 9 })
	time.Sleep(100 * time.Millisecond) // a repair the standby must not make
	if n := states(); n[market.Reconciled] != 9 {
		t.Fatalf("a standby repaired: %v", n)
	}
	a.setOwn([]market.Market{m})
	close(feed.more)
	waitFor(t, "every minute final once owned", func() bool { return states()[market.Reconciled] == 17 })
	if n := feed.runs.Load(); n != 1 {
		t.Errorf("the feed ran %d times; a change of ownership alone must not start it again", n)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10 s: %s", what)
		}
	}
}
