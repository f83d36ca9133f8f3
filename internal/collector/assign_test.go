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
}

func (s *downStore) Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
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
	runAssigned(t, st, fixedAssign{[]market.Market{m}}, scriptFeed{m}, m)
	waitFor(t, "14 minutes stored final", func() bool {
		return finals(st, m, base, base+14*60_000) == 14
	})
}

// runAssigned runs a collector of OKX-like market m (bins final, no trade
// counts) on st with feed, as a assigns, until the test ends.
func runAssigned(t *testing.T, st store.Store, a Assigner, feed Feed, m market.Market) {
	t.Helper()
	c, err := New(Config{Store: st, FlushEvery: 10 * time.Millisecond, Assign: a, Logger: discardLogger(),
		Venues: []Venue{{Name: "okx", Feed: feed, REST: restAll{}, Markets: []market.Market{m}, FinalGrace: time.Second,
			Bins: candle.Options{Unmergeable: true, NoCount: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }() //nolint:errcheck // ends with ctx
	t.Cleanup(func() { cancel(); <-done })
}

// finals counts m's reconciled 1m candles in [from, to).
func finals(st store.Store, m market.Market, from, to int64) int {
	got, _ := st.Candles(context.Background(), m, market.I1m, from, to)
	n := 0
	for _, c := range got {
		if c.State == market.Reconciled {
			n++
		}
	}
	return n
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
// 5-9), then, once more is closed, a minute with its final every 10 ms
// until it is stopped; it counts its runs.
type ownFeed struct {
	m    market.Market
	more chan struct{}
	runs atomic.Int32
}

func (f *ownFeed) Run(ctx context.Context, ms []market.Market, sink upstream.Sink) error {
	f.runs.Add(1)
	scriptFeed{f.m}.play(sink, ms)
	select {
	case <-f.more:
	case <-ctx.Done():
		return nil
	}
	for m := 14; upstream.Sleep(ctx, 10*time.Millisecond) == nil; m++ {
		playMinute(sink, f.m, m, true)
	}
	return nil
}

// TestOwnershipMovesInPlace: a standby that becomes a market's owner
// keeps its feed (started once) and repairs, over REST, the minutes its
// connection missed while it only stood by, and a gap the last owner
// found before this collector's first minute.
func TestOwnershipMovesInPlace(t *testing.T) {
	m := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	st := store.NewMemory(nil)
	a := &switchAssign{collect: []market.Market{m}, changed: make(chan struct{})}
	feed := &ownFeed{m: m, more: make(chan struct{})}
	runAssigned(t, st, a, feed, m)
	waitFor(t, "minute 13's final", func() bool { return finals(st, m, base+13*60_000, base+14*60_000) == 1 })
	time.Sleep(100 * time.Millisecond) // a repair the standby must not make
	if n := finals(st, m, base, base+14*60_000); n != 9 {
		t.Fatalf("%d of minutes 0-13 final while standing by; want the 9 with the venue's finals", n)
	}
	// The owner, before it died, had found minutes it did not live to repair.
	if _, err := st.AddGap(context.Background(), store.Gap{Market: m, From: base - 5*60_000, To: base - 3*60_000, Reason: "reconnect",
		Status: store.GapFound, Found: base}); err != nil {
		t.Fatal(err)
	}
	a.setOwn([]market.Market{m})
	close(feed.more)
	waitFor(t, "minutes 5-9, and those the last owner left, repaired once owned", func() bool {
		return finals(st, m, base-5*60_000, base+14*60_000) == 19 // and the 3 minutes between, before the first stored
	})
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

// TestOwnedPromotes: a market that comes to be owned in place is promoted
// until its first repair; one owned from the start, or owned again before
// that repair, keeps what it had.
func TestOwnedPromotes(t *testing.T) {
	a, b, c := market.Market{Venue: "v", Symbol: "A"}, market.Market{Venue: "v", Symbol: "B"}, market.Market{Venue: "v", Symbol: "C"}
	o := newOwned([]market.Market{a})
	type want struct{ own, promoted bool }
	steps := []struct {
		name    string
		do      func() bool // reports whether the owned set changed
		changed bool
		want    map[market.Market]want
	}{
		{"from the start", func() bool { return false }, false, map[market.Market]want{a: {true, false}, b: {}}},
		{"b comes", func() bool { return o.set([]market.Market{a, b}) }, true, map[market.Market]want{a: {true, false}, b: {true, true}}},
		{"the same again", func() bool { return o.set([]market.Market{a, b}) }, false, map[market.Market]want{b: {true, true}}},
		{"c comes, b not yet repaired", func() bool { return o.set([]market.Market{a, b, c}) }, true,
			map[market.Market]want{a: {true, false}, b: {true, true}, c: {true, true}}},
		{"b repaired", func() bool { o.settle(b); return false }, false, map[market.Market]want{b: {true, false}, c: {true, true}}},
		{"a and c go", func() bool { return o.set([]market.Market{b}) }, true, map[market.Market]want{a: {}, b: {true, false}, c: {}}},
		{"c comes back", func() bool { return o.set([]market.Market{b, c}) }, true, map[market.Market]want{c: {true, true}}},
	}
	for _, s := range steps {
		if got := s.do(); got != s.changed {
			t.Errorf("%s: changed %v, want %v", s.name, got, s.changed)
		}
		for m, w := range s.want {
			if own, promoted := o.has(m); own != w.own || promoted != w.promoted {
				t.Errorf("%s: %s owned %v promoted %v, want %v %v", s.name, m, own, promoted, w.own, w.promoted)
			}
		}
	}
}
