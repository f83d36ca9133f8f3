package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// TestRollupsFromOneRead: rollups computed from the windows read in one
// statement store exactly what SQLite stores (which reads them one by
// one, or from its bin cache), through random versions of recent and old
// bins and transactions that roll back; and every stored coarser bin is
// its parts' aggregate.
func TestRollupsFromOneRead(t *testing.T) {
	ctx := context.Background()
	pg := openFresh(t)
	ref, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ref.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	rng := rand.New(rand.NewPCG(3, 5))
	markets := []market.Market{{Venue: "binance", Symbol: "BTCUSDT"}, {Venue: "okx", Symbol: "ETH-USDT"}}
	errDerive := errors.New("derive failed")
	now := int64(1_700_000_000_000)
	for batch := range 150 {
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
		_, _, errP := pg.Write(ctx, cs, derive)
		_, _, errS := ref.Write(ctx, cs, derive)
		if !errors.Is(errP, errDerive) && errP != nil || (errP == nil) != (errS == nil) {
			t.Fatalf("batch %d: PostgreSQL %v, SQLite %v", batch, errP, errS)
		}
	}
	storetest.SameRows(t, pg, ref, markets)
	for _, m := range markets {
		if bad := storetest.WrongRollups(t, pg, m); len(bad) > 0 {
			t.Fatalf("%s: %d wrong rollups, first %s", m, len(bad), bad[0])
		}
	}
}
