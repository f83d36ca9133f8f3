package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// TestBinCacheMatchesTheFile: a store that merges and rolls up from its
// bin cache stores exactly what one that reads every row back stores,
// through random versions of recent and old bins (repairs outside what the
// cache keeps), rollups, and transactions that roll back.
func TestBinCacheMatchesTheFile(t *testing.T) {
	ctx := context.Background()
	cached, plain := openAt(t, "cached.db"), openAt(t, "plain.db")
	plain.bins = nil // every read goes to the file
	rng := rand.New(rand.NewPCG(7, 11))
	markets := []market.Market{{Venue: "binance", Symbol: "BTCUSDT"}, {Venue: "okx", Symbol: "ETH-USDT"}}
	errDerive := errors.New("derive failed")
	now := int64(1_700_000_000_000)
	for batch := range 400 {
		now += int64(rng.IntN(3)) * 20_000
		cs := randomVersions(rng, markets, market.I1m.Truncate(now))
		fail := rng.IntN(10) == 0
		derive := func(ctx context.Context, r store.Reader, changed []market.Candle) ([]market.Candle, error) {
			out, err := candle.Rollup(ctx, r, changed)
			if fail {
				return nil, errDerive
			}
			return out, err
		}
		_, _, errC := cached.Write(ctx, cs, derive)
		_, _, errP := plain.Write(ctx, cs, derive)
		if !errors.Is(errC, errDerive) && errC != nil || (errC == nil) != (errP == nil) {
			t.Fatalf("batch %d: cached store %v, plain store %v", batch, errC, errP)
		}
		if batch%20 == 19 {
			sameRows(t, cached, plain, markets)
		}
	}
	sameRows(t, cached, plain, markets)
}

func openAt(t *testing.T, name string) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), name), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// randomVersions are a few versions of 1m bins around now, and now and
// then of one far older.
func randomVersions(rng *rand.Rand, markets []market.Market, now int64) []market.Candle {
	var out []market.Candle
	for range 1 + rng.IntN(12) {
		open := now - int64(rng.IntN(4))*60_000
		if rng.IntN(15) == 0 {
			open = now - int64(30+rng.IntN(300))*60_000
		}
		lo := 100 + rng.IntN(10)
		hi := lo + rng.IntN(5)
		d := func(n int) market.Decimal { return market.MustDecimal(fmt.Sprint(n)) }
		out = append(out, market.Candle{Market: markets[rng.IntN(len(markets))], Interval: market.I1m, OpenTime: open,
			Open: d(lo + rng.IntN(hi-lo+1)), High: d(hi), Low: d(lo), Close: d(lo + rng.IntN(hi-lo+1)),
			Volume: d(1 + rng.IntN(50)), Quote: d(100 + rng.IntN(5000)), Trades: int64(1 + rng.IntN(40)),
			State:  []market.State{market.Provisional, market.Closed, market.Reconciled}[rng.IntN(3)],
			Source: []market.Source{market.SourceTrades, market.SourceKline, market.SourceREST}[rng.IntN(3)]})
	}
	return out
}

// sameRows fails t unless both stores hold the same candles of every
// interval (sequence numbers and times of writing aside).
func sameRows(t *testing.T, a, b *Store, markets []market.Market) {
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
				if x[i] != y[i] {
					t.Fatalf("%s %s row %d:\ncached %+v\nplain  %+v", m, iv, i, x[i], y[i])
				}
			}
		}
	}
}
