package storetest

import (
	"context"
	"fmt"
	"testing"

	candles "github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// WrongRollups rebuilds every stored coarser bin of m from the stored finer
// ones (candle.Aggregate) and lists each bin that differs from its rebuild
// or is missing. With every 1m candle checked against a trade log, an
// empty list proves the rollups right too.
func WrongRollups(t testing.TB, st store.Store, m market.Market) []string {
	t.Helper()
	ctx := context.Background()
	var bad []string
	for _, iv := range market.Intervals[1:] {
		src, _ := iv.Source()
		parts, err := st.Candles(ctx, m, src, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := st.Candles(ctx, m, iv, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		have := map[int64]market.Candle{}
		for _, c := range stored {
			have[c.OpenTime] = c
		}
		groups := map[int64][]market.Candle{}
		var opens []int64
		for _, p := range parts {
			k := iv.Truncate(p.OpenTime)
			if groups[k] == nil {
				opens = append(opens, k)
			}
			groups[k] = append(groups[k], p)
		}
		for _, k := range opens {
			want, _ := candles.Aggregate(iv, k, groups[k], int(iv.Millis()/src.Millis()))
			if got, ok := have[k]; !ok || values(got) != values(want) {
				bad = append(bad, fmt.Sprintf("%s %s@%d: stored %q, rebuilt %q", m, iv, k, values(got), values(want)))
			}
		}
	}
	return bad
}

func values(c market.Candle) string {
	return fmt.Sprintf("%s %s %s %s %s %s %d %s", c.Open, c.High, c.Low, c.Close, c.Volume, c.Quote, c.Trades, c.State)
}
