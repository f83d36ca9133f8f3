package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

// benchBatch is the rows of one upsert: about what the collector's writer
// flushes for a few hundred markets.
const benchBatch = 500

// BenchmarkUpsert writes batches of new candles, or new revisions of
// stored ones, with 1 and 4 writers, into SQLite and PostgreSQL side by
// side; rows/s is the figure. PostgreSQL's writers are separate pools, as
// separate processes would be; SQLite's share its one writer.
func BenchmarkUpsert(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B, writers int) []store.Store
	}{
		{"sqlite", func(b *testing.B, writers int) []store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			out := make([]store.Store, writers)
			for i := range out {
				out[i] = st
			}
			return out
		}},
		{"postgres", func(b *testing.B, writers int) []store.Store {
			dsn := pgtest.Fresh(b)
			out := make([]store.Store, writers)
			for i := range out {
				s, err := Open(context.Background(), dsn, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				out[i] = s
			}
			return out
		}},
	}
	for _, st := range stores {
		for _, writers := range []int{1, 4} {
			for _, kind := range []string{"new", "revisions"} {
				b.Run(fmt.Sprintf("%s/writers=%d/%s", st.name, writers, kind), func(b *testing.B) {
					benchUpsert(b, st.open(b, writers), kind == "revisions")
				})
			}
		}
	}
}

// benchUpsert runs b.N batches spread over the writers: writer w writes
// market w; new candles move forward in time, revisions rewrite the same
// bins with another close.
func benchUpsert(b *testing.B, writers []store.Store, revise bool) {
	ctx := context.Background()
	var next atomic.Int64
	// n is the batch's number over all writers; k its writer's own count,
	// whose parity alternates the close of a revision.
	batch := func(w int, n, k int64) []market.Candle {
		m := market.Market{Venue: "bench", Symbol: fmt.Sprintf("W%d", w)}
		p := market.MustDecimal(fmt.Sprint(100 + k%2))
		out := make([]market.Candle, benchBatch)
		for i := range out {
			t := int64(i) * 60_000
			if !revise {
				t += n * benchBatch * 60_000
			}
			out[i] = market.Candle{Market: m, Interval: market.I1m, OpenTime: t, Open: p, High: p, Low: p, Close: p,
				Volume: market.MustDecimal("1.25"), Quote: market.Zero, Trades: 3, State: market.Closed, Source: market.SourceTrades}
		}
		return out
	}
	b.ResetTimer()
	done := make(chan error, len(writers))
	for w, s := range writers {
		go func() {
			var k int64
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				k++
				r, err := s.Upsert(ctx, batch(w, n, k))
				if err == nil && len(r.Changed) != benchBatch {
					err = fmt.Errorf("batch %d: %d changed, want %d", n, len(r.Changed), benchBatch)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range writers {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
}
