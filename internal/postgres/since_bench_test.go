package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

// sinceSeries is how many series the stored candles are spread over.
const sinceSeries = 100

// BenchmarkSince reads what a client of 1 or 10 series missed since a
// recent cursor (the newest 10,000 changes, about 100 per series), from a
// store of 10 million candles ($CANDLEWIRE_BENCH_ROWS to change it), in
// SQLite and PostgreSQL side by side. Filling each store takes minutes.
func BenchmarkSince(b *testing.B) {
	rows := int64(10_000_000)
	if s := os.Getenv("CANDLEWIRE_BENCH_ROWS"); s != "" {
		rows, _ = strconv.ParseInt(s, 10, 64)
	}
	stores := []struct {
		name string
		fill func(b *testing.B, rows int64) store.Store
	}{{"sqlite", fillSQLite}, {"postgres", fillPostgres}}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			s := st.fill(b, rows)
			for _, n := range []int{1, 10} {
				var series []market.Series
				for i := range n {
					series = append(series, market.Series{Market: market.Market{Venue: "bench", Symbol: fmt.Sprintf("S%d", i)}, Interval: market.I1m})
				}
				b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
					var got int
					for b.Loop() {
						cs, err := s.Since(context.Background(), series, rows-10_000, 1000)
						if err != nil {
							b.Fatal(err)
						}
						got = len(cs)
					}
					if want := n * 10_000 / sinceSeries; got != want {
						b.Fatalf("%d changes, want %d", got, want)
					}
				})
			}
		})
	}
}

// fillSQL is the stored candles as SELECT columns over g = 1..rows:
// row g is series g mod 100, minute g / 100, sequence number g.
const fillSQL = `'bench', 'S' || (g %% %d), '1m', (g / %d) * 60000, %s, %s, %s, %s, %s, %s, 1, 3, 1, 'rest', 0, g`

func fillPostgres(b *testing.B, rows int64) store.Store {
	dsn := pgtest.Fresh(b)
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	one := "1::numeric"
	q := fmt.Sprintf(`WITH f AS (SELECT `+fillSQL+` FROM generate_series(1, $1::bigint) g)
		INSERT INTO candles SELECT sr.id, t, o, h, l, cl, vol, q, n, st, rev, src, up, seq
		FROM f AS f(v, s, i, t, o, h, l, cl, vol, q, n, st, rev, src, up, seq)
		JOIN series sr ON sr.venue = f.v AND sr.symbol = f.s AND sr.interval = f.i`,
		sinceSeries, sinceSeries, one, one, one, one, one, one)
	err = pgx.BeginFunc(context.Background(), s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), `INSERT INTO series (venue, symbol, interval)
			SELECT 'bench', 'S' || g, '1m' FROM generate_series(0, $1::int - 1) g`, sinceSeries); err != nil {
			return err
		}
		if _, err := tx.Exec(context.Background(), q, rows); err != nil {
			return err
		}
		_, err := tx.Exec(context.Background(), `UPDATE candle_head SET seq = $1`, rows)
		return err
	})
	if err == nil {
		_, err = s.pool.Exec(context.Background(), `ANALYZE candles`)
	}
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func fillSQLite(b *testing.B, rows int64) store.Store {
	path := filepath.Join(b.TempDir(), "since.db")
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	q := fmt.Sprintf(`WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < ?)
		INSERT INTO candles (venue, symbol, interval, open_time, open, high, low, close, volume, quote, trades, state, rev,
			source, updated_at, seq) SELECT `+fillSQL+` FROM n`, sinceSeries, sinceSeries, "'1'", "'1'", "'1'", "'1'", "'1'", "'1'")
	if _, err := db.Exec(q, rows); err != nil {
		b.Fatal(err)
	}
	db.Close()
	if s, err = sqlite.Open(context.Background(), path, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
