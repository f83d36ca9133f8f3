package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/retention"
	"github.com/candlewire/candlewire/internal/store"
)

// testDeleteBefore: Series lists what is stored, in order, and
// DeleteBefore deletes the oldest bins of one series only, at most the
// limit, before the time given; what is written after still stores.
func testDeleteBefore(t *testing.T, s store.Store) {
	r, ok := s.(retention.Store)
	if !ok {
		t.Skip("this store has no retention")
	}
	ctx := context.Background()
	var cs []market.Candle
	for i := range int64(10) {
		cs = append(cs, candle(btc, i*60_000, "1", market.Closed), candle(xbt, i*60_000, "2", market.Closed))
	}
	upsert(t, s, cs...)
	ss, err := r.Series(ctx)
	want := []market.Series{{Market: btc, Interval: market.I1m}, {Market: xbt, Interval: market.I1m}}
	slices.SortFunc(want, market.Series.Compare)
	if err != nil || !slices.Equal(ss, want) {
		t.Fatalf("Series = %v, %v; want %v", ss, err, want)
	}
	sr := market.Series{Market: btc, Interval: market.I1m}
	for _, c := range []struct {
		before int64
		limit  int
		want   int64
		first  int64 // the oldest bin left
	}{{3 * 60_000, 2, 2, 2 * 60_000}, {3 * 60_000, 5, 1, 3 * 60_000}, {3 * 60_000, 5, 0, 3 * 60_000}, {8*60_000 + 1, 100, 6, 9 * 60_000}} {
		n, err := r.DeleteBefore(ctx, sr, c.before, c.limit)
		got, _ := s.Candles(ctx, btc, market.I1m, 0, 1<<40)
		if err != nil || n != c.want || len(got) == 0 || got[0].OpenTime != c.first {
			t.Fatalf("DeleteBefore(%d, %d) = %d, %v; oldest left %v; want %d deleted, oldest %d", c.before, c.limit, n, err, got, c.want, c.first)
		}
	}
	if other, _ := s.Candles(ctx, xbt, market.I1m, 0, 1<<40); len(other) != 10 {
		t.Fatalf("the other series lost bins: %d left", len(other))
	}
	if res := upsert(t, s, candle(btc, 0, "3", market.Closed)); len(res.Changed) != 1 {
		t.Fatalf("a deleted bin written again: %+v", res)
	}
}
