package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// oldFile makes a database at schema version v, as an older candlewire
// left it, and returns its handle for filling.
func oldFile(t *testing.T, path string, v int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:v] {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 0)`, i+1); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestMigrationKeysBinsBySeries: a file of schema 6 (bins keyed by venue,
// symbol and interval) keeps every row, column and sequence number when
// its bins are keyed by series number; writes after it update the rows
// they find, in this process and after a reopen, and number new series.
func TestMigrationKeysBinsBySeries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "six.db")
	db := oldFile(t, path, 6)
	eth := market.Market{Venue: "binance", Symbol: "ETHUSDT"}
	var want []market.Candle
	for i, sr := range []market.Series{{Market: market.Default, Interval: market.I1m}, {Market: market.Default, Interval: market.I5m},
		{Market: eth, Interval: market.I1m}} {
		for j := range 3 {
			// Every column its own value, so a column copied into another's place shows.
			c := testCandle(int64(j) * sr.Interval.Millis())
			c.Market, c.Interval, c.Source = sr.Market, sr.Interval, market.SourceTrades
			c.Open, c.High, c.Low, c.Close = market.MustDecimal("1.25"), market.MustDecimal("2.5"), market.MustDecimal("0.75"), market.MustDecimal("1.5")
			c.Volume, c.Quote = market.MustDecimal(fmt.Sprintf("7.%d", j+1)), market.MustDecimal(fmt.Sprintf("9.%d", i+1))
			c.Trades, c.State, c.Rev = int64(10*i+j+20), market.State(1+j), int64(j+5)
			c.Seq, c.Updated = int64(3*i+j+1), int64(1000+j)
			want = append(want, c)
			if _, err := db.ExecContext(ctx, `INSERT INTO candles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				c.Market.Venue, c.Market.Symbol, string(c.Interval), c.OpenTime, c.Open.String(), c.High.String(), c.Low.String(),
				c.Close.String(), c.Volume.String(), c.Quote.String(), c.Trades, int(c.State), c.Rev, string(c.Source), c.Updated, c.Seq); err != nil {
				t.Fatal(err)
			}
		}
	}
	db.Close()
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("the WAL after migrating: %v, %v; want it truncated", fi, err)
	}
	var got []market.Candle
	for _, sr := range []market.Series{{Market: market.Default, Interval: market.I1m}, {Market: market.Default, Interval: market.I5m},
		{Market: eth, Interval: market.I1m}} {
		cs, err := s.Candles(ctx, sr.Market, sr.Interval, 0, 1<<50)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cs...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after migration:\n got %+v\nwant %+v", got, want)
	}
	if last, ok, err := s.LastReconciled(ctx, eth, market.I1m); err != nil || !ok || last != 120_000 {
		t.Fatalf("LastReconciled = %d %v %v, want 120000", last, ok, err)
	}
	series, err := s.Series(ctx)
	if err != nil || len(series) != 3 || series[2].Market != eth {
		t.Fatalf("Series = %v %v", series, err)
	}
	write := func(s *Store, c market.Candle) {
		t.Helper()
		if _, err := s.Upsert(ctx, []market.Candle{c}); err != nil {
			t.Fatal(err)
		}
	}
	next := want[2]
	next.Close, next.State, next.Rev = market.MustDecimal("1.5"), market.Reconciled, next.Rev+1
	write(s, next)
	sol := testCandle(0)
	sol.Market = market.Market{Venue: "okx", Symbol: "SOL-USDT"}
	write(s, sol)
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	next.Close = market.MustDecimal("1.75")
	write(s, next)
	sol.OpenTime = 60_000
	write(s, sol)
	if n, err := s.Count(ctx); err != nil || n != 11 {
		t.Fatalf("Count = %d %v, want 9 migrated and 2 new", n, err)
	}
	if cs, err := s.Candles(ctx, market.Default, market.I1m, 120_000, 180_000); err != nil || len(cs) != 1 || cs[0].Close.String() != "1.75" {
		t.Fatalf("rewritten bin = %+v %v, want close 1.75", cs, err)
	}
	if cs, err := s.Candles(ctx, sol.Market, market.I1m, 0, 1<<50); err != nil || len(cs) != 2 {
		t.Fatalf("new series = %+v %v, want 2 bins", cs, err)
	}
	var ivs []market.Interval // a new market's series are numbered together, finest first
	rows, err := s.db.QueryContext(ctx, `SELECT interval, id FROM series WHERE venue = 'okx' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	first := int64(-1)
	for rows.Next() {
		var iv string
		var id int64
		if err := rows.Scan(&iv, &id); err != nil {
			t.Fatal(err)
		}
		if first < 0 {
			first = id
		}
		if id != first+int64(len(ivs)) {
			t.Fatalf("series %s numbered %d, want %d: a market's numbers run together", iv, id, first+int64(len(ivs)))
		}
		ivs = append(ivs, market.Interval(iv))
	}
	if !slices.Equal(ivs, market.Intervals) {
		t.Fatalf("a new market's series %v, want %v", ivs, market.Intervals)
	}
}

// TestRolledBackNumbersAreForgotten: the numbers a transaction gave a new
// market are forgotten when it rolls back, so the next market, which is
// given the same numbers, keeps its rows to itself.
func TestRolledBackNumbersAreForgotten(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	a, b := testCandle(0), testCandle(0)
	a.Market, b.Market = market.Market{Venue: "binance", Symbol: "AAAUSDT"}, market.Market{Venue: "binance", Symbol: "BBBUSDT"}
	b.Close = market.MustDecimal("2")
	b.High = b.Close
	fail := func(context.Context, store.Reader, []market.Candle) ([]market.Candle, error) {
		return nil, errors.New("derive failed")
	}
	if _, _, err := s.Write(ctx, []market.Candle{a}, fail); err == nil {
		t.Fatal("a write whose derive failed committed")
	}
	for _, c := range []market.Candle{b, a} {
		if _, err := s.Upsert(ctx, []market.Candle{c}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []market.Candle{a, b} {
		got, err := s.Candles(ctx, c.Market, market.I1m, 0, 1<<50)
		if err != nil || len(got) != 1 || !got[0].Close.Equal(c.Close) {
			t.Fatalf("%s reads %+v %v, want its one bin closing at %s", c.Market, got, err, c.Close)
		}
	}
}
