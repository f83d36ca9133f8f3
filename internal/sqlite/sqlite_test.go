package sqlite

import (
	"context"
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
