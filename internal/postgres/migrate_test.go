package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/store"
)

// TestUpgradeKeepsCandles: a database written by an older candlewire
// (schema 6: candles keyed by venue, symbol and interval) is brought to
// the newest schema at Open, and every candle reads back the same, with
// its revision and sequence number; writes then go on after the old head.
func TestUpgradeKeepsCandles(t *testing.T) {
	ctx := context.Background()
	dsn, conn := atSchema(t, 6)
	if _, err := conn.Exec(ctx, `INSERT INTO candles VALUES
		('binance', 'BTCUSDT', '1m', 60000, 1.5, 2, 1, 1.75, 10.125, 17, 4, 3, 2, 'rest', 5, 7),
		('binance', 'BTCUSDT', '5m', 0, 1.5, 2, 1, 1.75, 10.125, 17, 4, 1, 1, 'trades', 5, 8),
		('okx', 'BTC-USDT', '1m', 60000, 3, 3, 3, 3, 0.5, 0, 1, 2, 1, 'trades', 5, 9);
		UPDATE candle_head SET seq = 9`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	btc, okx := market.Market{Venue: "binance", Symbol: "BTCUSDT"}, market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	for _, c := range []struct {
		m    market.Market
		iv   market.Interval
		want string
	}{
		{btc, market.I1m, "60000 o=1.5 c=1.75 v=10.125 q=17 n=4 state=3 rev=2 seq=7"},
		{btc, market.I5m, "0 o=1.5 c=1.75 v=10.125 q=17 n=4 state=1 rev=1 seq=8"},
		{okx, market.I1m, "60000 o=3 c=3 v=0.5 q=0 n=1 state=2 rev=1 seq=9"},
	} {
		got, err := s.Candles(ctx, c.m, c.iv, 0, 1<<50)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s %s after the upgrade: %v, %v", c.m, c.iv, got, err)
		}
		g := got[0]
		if s := fmtCandle(g); s != c.want || g.Market != c.m || g.Interval != c.iv {
			t.Errorf("%s %s after the upgrade: %s, want %s", c.m, c.iv, s, c.want)
		}
	}
	p := market.MustDecimal("3")
	r, err := s.Upsert(ctx, []market.Candle{{Market: okx, Interval: market.I1m, OpenTime: 120000, Open: p, High: p, Low: p,
		Close: p, Volume: p, Quote: market.Zero, Trades: 1, State: market.Closed, Source: market.SourceTrades}})
	if err != nil || len(r.Changed) != 1 || r.Changed[0].Seq != 10 {
		t.Fatalf("a write after the upgrade: %+v, %v (want sequence number 10)", r, err)
	}
}

func fmtCandle(c market.Candle) string {
	return fmt.Sprintf("%d o=%s c=%s v=%s q=%s n=%d state=%d rev=%d seq=%d",
		c.OpenTime, c.Open, c.Close, c.Volume, c.Quote, c.Trades, c.State, c.Rev, c.Seq)
}

// TestUpgradeRedrawsAnUnusedHighEpoch: an empty store whose epoch was
// drawn from the whole range before (schema 6) draws again from the lower
// half; one with candles keeps its epoch (clients hold its cursors).
func TestUpgradeRedrawsAnUnusedHighEpoch(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		written bool
	}{{"empty", false}, {"written", true}} {
		t.Run(c.name, func(t *testing.T) {
			dsn, conn := atSchema(t, 6)
			if _, err := conn.Exec(ctx, `UPDATE candle_head SET epoch = 8000, seq = 8000::bigint << 40`); err != nil {
				t.Fatal(err)
			}
			if c.written {
				if _, err := conn.Exec(ctx, `INSERT INTO candles VALUES ('binance', 'BTCUSDT', '1m', 0, 1, 1, 1, 1, 1, 0, 1, 2, 1, 'trades', 5, (8000::bigint << 40) + 1);
					UPDATE candle_head SET seq = seq + 1`); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Epoch(); c.written && got != 8000 || !c.written && (got < 1 || got > store.MaxEpoch/2) {
				t.Fatalf("epoch %d after the upgrade", got)
			}
		})
	}
}

// atSchema is a fresh database migrated to schema version v, as an older
// candlewire left it, and a connection to it (closed when the test ends).
func atSchema(t *testing.T, v int) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.Fresh(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= v; i++ {
		if err := apply(ctx, conn, i); err != nil {
			t.Fatal(err)
		}
	}
	return dsn, conn
}
