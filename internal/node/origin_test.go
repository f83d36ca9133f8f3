package node

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

// TestClaimOrigin: a database that holds candles keeps the origin of its
// writer, and refuses the other with what to do; a store that keeps no
// origin (memory) takes both.
func TestClaimOrigin(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		first, then string
		want        string // in the error; "" for none
	}{
		{OriginSim, OriginSim, ""},
		{OriginLive, OriginLive, ""},
		{OriginSim, OriginLive, "holds simulated candles (written with --sim), and live ones would mix with them: use another database"},
		{OriginLive, OriginSim, "holds live candles, and the simulator's would mix with them: give --sim a database of its own (another --db)"},
		{OriginSim, "", ""},
	} {
		t.Run(c.first+"-then-"+c.then, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "c.db")
			st, err := sqlite.Open(ctx, db, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := ClaimOrigin(ctx, st, db, c.first); err != nil {
				t.Fatal(err)
			}
			p := market.MustDecimal("1")
			if _, err := st.Upsert(ctx, []market.Candle{{Market: market.Default, Interval: market.I1m, Open: p, High: p, Low: p, Close: p, Volume: p, Quote: p, State: market.Closed}}); err != nil {
				t.Fatal(err)
			}
			err = ClaimOrigin(ctx, st, db, c.then)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), db+" "+c.want)) {
				t.Fatalf("claim %s after %s: %v, want %q", c.then, c.first, err, c.want)
			}
			mem := store.NewMemory(nil)
			if ClaimOrigin(ctx, mem, "", c.first) != nil || ClaimOrigin(ctx, mem, "", c.then) != nil {
				t.Fatal("a memory store refused an origin")
			}
		})
	}
}

// TestResume: the simulation starts after the newest final of all the
// markets, each anchored after its own newest final at its close; a set
// start stays; a store without finals leaves the config as it was.
func TestResume(t *testing.T) {
	ctx := context.Background()
	btc, eth := market.Default, market.Market{Venue: "binance", Symbol: "ETHUSDT"}
	bar := func(m market.Market, t int64, close string, s market.State) market.Candle {
		p := market.MustDecimal(close)
		return market.Candle{Market: m, Interval: market.I1m, OpenTime: t, Open: p, High: p, Low: p, Close: p, Volume: p, Quote: p, State: s}
	}
	st := store.NewMemory(nil)
	log := slog.New(slog.DiscardHandler)
	var empty sim.Config
	if err := Resume(ctx, st, []market.Market{btc}, &empty, log); err != nil || empty.Start != 0 || empty.Resume != nil {
		t.Fatalf("empty store: %+v, %v", empty, err)
	}
	if _, err := st.Upsert(ctx, []market.Candle{bar(btc, 60_000, "10", market.Reconciled), bar(btc, 120_000, "11", market.Reconciled),
		bar(btc, 180_000, "12", market.Provisional), bar(eth, 60_000, "5", market.Reconciled)}); err != nil {
		t.Fatal(err)
	}
	var sc sim.Config
	if err := Resume(ctx, st, []market.Market{btc, eth}, &sc, log); err != nil {
		t.Fatal(err)
	}
	want := map[string]sim.Anchor{"binance:BTCUSDT": {At: 180_000, Price: market.MustDecimal("11")},
		"binance:ETHUSDT": {At: 120_000, Price: market.MustDecimal("5")}}
	if sc.Start != 180_000 || !reflect.DeepEqual(sc.Resume, want) {
		t.Fatalf("resumed %+v, want start 180000 and %+v", sc, want)
	}
	set := sim.Config{Start: 42}
	if err := Resume(ctx, st, []market.Market{btc}, &set, log); err != nil || set.Start != 42 || len(set.Resume) != 1 {
		t.Fatalf("a set start: %+v, %v", set, err)
	}
}
