package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: 60_000, Open: market.MustDecimal("1"),
		High: market.MustDecimal("1"), Low: market.MustDecimal("1"), Close: market.MustDecimal("1"), State: market.Reconciled}
	if _, err := s.Upsert(ctx, []market.Candle{c}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var versions int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != len(migrations) {
		t.Fatalf("schema versions = %d, %v", versions, err)
	}
	got, _ := s.Candles(ctx, market.Default, market.I1m, 0, 1e12)
	if len(got) != 1 || got[0].Rev != 1 {
		t.Fatalf("after reopen: %+v", got)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	s := openTemp(t)
	if _, err := s.db.Exec(`INSERT INTO schema_migrations VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(context.Background(), s.db); err == nil {
		t.Fatal("a newer schema was accepted")
	}
}

// BenchmarkUpsertBatch stores batches of 100 candle versions (new bins).
func BenchmarkUpsertBatch(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	one := market.MustDecimal("64321.57")
	batch := make([]market.Candle, 100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for j := range batch {
			batch[j] = market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: int64(i*100+j) * 60_000,
				Open: one, High: one, Low: one, Close: one, Volume: one, Quote: one, State: market.Reconciled}
		}
		if _, err := s.Upsert(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "candles/s")
}

// BenchmarkUpsertUpdate re-stores 100 existing bins with new values per
// transaction: the live case, where most writes revise a stored bin.
func BenchmarkUpsertUpdate(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]market.Candle, 100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		px := market.MustDecimal(fmt.Sprintf("64321.%d", i%1000+1))
		for j := range batch {
			batch[j] = market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: int64(i%50*100+j) * 60_000,
				Open: px, High: px, Low: px, Close: px, Volume: px, Quote: px, State: market.Provisional, Source: market.SourceTrades}
		}
		if _, err := s.Upsert(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "candles/s")
}

// TestMigrationNumbersExistingRows: a database from before sequence
// numbers gets them, in the order its rows were last updated.
func TestMigrationNumbersExistingRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for v, m := range migrations[:2] {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
			INSERT INTO schema_migrations VALUES (?, 0)`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	for i, updated := range []int64{300, 100, 200} {
		if _, err := db.ExecContext(ctx, `INSERT INTO candles VALUES ('binance','BTCUSDT','1m',?,'1','1','1','1','0','0',0,3,1,'rest',?)`,
			int64(i)*60_000, updated); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Since(ctx, []market.Series{{Market: market.Default, Interval: market.I1m}}, 0, 10)
	if err != nil || len(got) != 3 || got[0].OpenTime != 60_000 || got[1].OpenTime != 120_000 || got[2].OpenTime != 0 || got[2].Seq != 3 {
		t.Fatalf("after migration: %+v, %v", got, err)
	}
	if h, _ := s.Head(ctx); h != 3 {
		t.Fatalf("head = %d, want 3", h)
	}
}
