package sqlite

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
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
		cs := storetest.RandomVersions(rng, markets, market.I1m.Truncate(now))
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
			storetest.SameRows(t, cached, plain, markets)
		}
	}
	storetest.SameRows(t, cached, plain, markets)
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
