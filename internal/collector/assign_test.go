package collector

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
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
