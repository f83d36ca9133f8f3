package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	candles "github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// RandomVersions are a few random versions of 1m bins of markets in the
// minutes up to now, and now and then of one far older (a repair). Their
// decimals have trailing zeros, which a store may keep or drop: merges
// must not care.
func RandomVersions(rng *rand.Rand, markets []market.Market, now int64) []market.Candle {
	var out []market.Candle
	for range 1 + rng.IntN(12) {
		open := now - int64(rng.IntN(4))*60_000
		if rng.IntN(15) == 0 {
			open = now - int64(30+rng.IntN(300))*60_000
		}
		lo := 100 + rng.IntN(10)
		hi := lo + rng.IntN(5)
		d := func(n int) market.Decimal { return market.MustDecimal(fmt.Sprintf("%d.%d0", n/10, n%10)) }
		out = append(out, market.Candle{Market: markets[rng.IntN(len(markets))], Interval: market.I1m, OpenTime: open,
			Open: d(lo + rng.IntN(hi-lo+1)), High: d(hi), Low: d(lo), Close: d(lo + rng.IntN(hi-lo+1)),
			Volume: d(1 + rng.IntN(50)), Quote: d(100 + rng.IntN(5000)), Trades: int64(1 + rng.IntN(40)),
			State:  []market.State{market.Provisional, market.Closed, market.Reconciled}[rng.IntN(3)],
			Source: []market.Source{market.SourceTrades, market.SourceKline, market.SourceREST}[rng.IntN(3)]})
	}
	return out
}

// SameRows fails t unless both stores hold the same candles of every
// interval of markets (sequence numbers and times of writing aside).
func SameRows(t testing.TB, a, b store.Candles, markets []market.Market) {
	t.Helper()
	ctx := context.Background()
	for _, m := range markets {
		for _, iv := range market.Intervals {
			x, err1 := a.Candles(ctx, m, iv, math.MinInt64, math.MaxInt64)
			y, err2 := b.Candles(ctx, m, iv, math.MinInt64, math.MaxInt64)
			if err1 != nil || err2 != nil || len(x) != len(y) {
				t.Fatalf("%s %s: %d rows (%v) against %d (%v)", m, iv, len(x), err1, len(y), err2)
			}
			for i := range x {
				x[i].Seq, y[i].Seq, x[i].Updated, y[i].Updated = 0, 0, 0, 0
				if !x[i].SameValues(y[i]) || x[i].State != y[i].State || x[i].Rev != y[i].Rev || x[i].Source != y[i].Source ||
					x[i].Key() != y[i].Key() {
					t.Fatalf("%s %s row %d:\n%+v\n%+v", m, iv, i, x[i], y[i])
				}
			}
		}
	}
}

// SameUnderRandomWrites writes the same random batches (RandomVersions,
// with candle.Rollup deriving their coarser bins, and one in ten
// transactions failing in the derive, so rolled back) into two stores,
// checks they fail and succeed together, and every check batches that
// they hold the same rows (SameRows).
func SameUnderRandomWrites(t testing.TB, a, b store.Store, seed uint64, batches, check int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	markets := []market.Market{{Venue: "binance", Symbol: "BTCUSDT"}, {Venue: "okx", Symbol: "ETH-USDT"}}
	errDerive := errors.New("derive failed")
	now := int64(1_700_000_000_000)
	for batch := range batches {
		now += int64(rng.IntN(3)) * 20_000
		cs := RandomVersions(rng, markets, market.I1m.Truncate(now))
		fail := rng.IntN(10) == 0
		derive := func(ctx context.Context, r store.Reader, changed []market.Candle) ([]market.Candle, error) {
			out, err := candles.Rollup(ctx, r, changed)
			if fail {
				return nil, errDerive
			}
			return out, err
		}
		_, _, errA := a.Write(ctx, cs, derive)
		_, _, errB := b.Write(ctx, cs, derive)
		if !errors.Is(errA, errDerive) && errA != nil || (errA == nil) != (errB == nil) {
			t.Fatalf("batch %d: first store %v, second %v", batch, errA, errB)
		}
		if batch%check == check-1 || batch == batches-1 {
			SameRows(t, a, b, markets)
		}
	}
	for _, m := range markets {
		if bad := WrongRollups(t, a, m); len(bad) > 0 {
			t.Fatalf("%s: %d wrong rollups, first %s", m, len(bad), bad[0])
		}
	}
}
