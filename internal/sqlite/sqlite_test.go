package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	db := oldFile(t, path, 2)
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

// TestOneWriterPerFile: a second writer of a file is refused with one
// clear error while the first has it open, in this process or another;
// a reader (OpenShared) is not; after Close the file can be opened again.
func TestOneWriterPerFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "one.db")
	first, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Upsert(ctx, []market.Candle{testCandle(0)}); err != nil {
		t.Fatal(err)
	}
	second, err := Open(ctx, path, nil)
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), path) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second Open = %v; want ErrInUse naming %s", err, path)
	}
	reader, err := OpenShared(ctx, path)
	if err != nil {
		t.Fatalf("OpenShared beside the writer: %v", err)
	}
	if got, _ := reader.Candles(ctx, market.Default, market.I1m, 0, 1<<62); len(got) != 1 {
		t.Fatalf("reader sees %d candles, want 1", len(got))
	}
	if _, err := reader.Upsert(ctx, []market.Candle{testCandle(120_000)}); err == nil {
		t.Fatal("a shared store was written through")
	}
	// The reader's head and Since follow what the writer commits after it
	// opened.
	if _, err := first.Upsert(ctx, []market.Candle{testCandle(180_000)}); err != nil {
		t.Fatal(err)
	}
	series := []market.Series{{Market: market.Default, Interval: market.I1m}}
	h0 := reader.Epoch() << store.EpochShift
	if head, err := reader.Head(ctx); err != nil || head != h0+2 {
		t.Fatalf("reader's head %d, %v; want %d", head, err, h0+2)
	}
	if got, _ := reader.Since(ctx, series, h0+1, 10); len(got) != 1 || got[0].OpenTime != 180_000 {
		t.Fatalf("reader's Since(1) = %+v; want the writer's newer row", got)
	}
	reader.Close()
	// The refusals did not break the writer's own locks or data.
	if _, err := first.Upsert(ctx, []market.Candle{testCandle(60_000)}); err != nil {
		t.Fatalf("writer after a refused second writer and a reader: %v", err)
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), openChildEnv+"="+path)
	if out, err := child.CombinedOutput(); err == nil || !strings.Contains(string(out), "in use by another candlewire process") {
		t.Fatalf("a second process opened the file for writing: %v, %s", err, out)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	again.Close()
}

func testCandle(open int64) market.Candle {
	p := market.MustDecimal("1")
	return market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: open, Open: p, High: p, Low: p, Close: p,
		State: market.Reconciled, Source: market.SourceREST}
}

// TestOpenNamesThePathAndTheReason: a database that cannot be opened says
// which path and why, not SQLite's bare "unable to open database file".
func TestOpenNamesThePathAndTheReason(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ path, want string }{
		{filepath.Join(dir, "missing", "x.db"), "directory " + filepath.Join(dir, "missing") + " does not exist"},
		{dir, "is a directory"},
	}
	for _, c := range cases {
		s, err := Open(context.Background(), c.path, nil)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded", c.path)
		}
		if !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%s) = %q; want the path and %q", c.path, err, c.want)
		}
	}
	if _, err := OpenShared(context.Background(), filepath.Join(dir, "none.db")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("OpenShared of a missing file = %v", err)
	}
}

// TestSinceNeverPassesAChange: a reader resuming two series from its
// cursor while a writer stores a bin of each in every batch must receive
// every bin: a change committed between the reads of the two series must
// not be seen for one and passed for the other.
func TestSinceNeverPassesAChange(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	a, b := market.Default, market.Market{Venue: "bitmex", Symbol: "XBTUSD"}
	series := []market.Series{{Market: a, Interval: market.I1m}, {Market: b, Interval: market.I1m}}
	const batches = 400
	done := make(chan error, 1)
	go func() {
		for i := int64(0); i < batches; i++ {
			x, y := testCandle(i*60_000), testCandle(i*60_000)
			// a's row gets the lower sequence number: one batch committed
			// between the reads of a and of b is enough to pass it.
			x.Market, y.Market = a, b
			if _, err := s.Upsert(ctx, []market.Candle{x, y}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	got := map[market.Key]bool{}
	var cursor int64
	read := func() {
		cs, err := s.Since(ctx, series, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got[c.Key()], cursor = true, max(cursor, c.Seq)
		}
	}
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			writing = false
		default:
		}
		read()
	}
	read()
	if len(got) != 2*batches {
		t.Fatalf("resuming from cursors received %d of %d bins", len(got), 2*batches)
	}
}

// TestHotQueriesSeekTheirIndexes: every query of a series finds its
// series number once and seeks its rows by it, never scanning the bins;
// a series' newest reconciled bin is found through the index that holds
// reconciled bins alone (which writes of provisional and closed bins leave
// alone), not by a walk over the market's rows.
func TestHotQueriesSeekTheirIndexes(t *testing.T) {
	s := openTemp(t)
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"last reconciled", lastReconciledSQL, "SEARCH bins USING COVERING INDEX bins_final (series=?)"},
		{"range", rangeSQL, "SEARCH b USING PRIMARY KEY (series=? AND open_time>? AND open_time<?)"},
		{"since", sinceSQL, "SEARCH b USING INDEX bins_seq (series=? AND seq>? AND seq<?)"},
		{"point", pointSQL, "SEARCH b USING PRIMARY KEY (series=? AND open_time=?)"},
		{"before", beforeSQL, "SEARCH b USING PRIMARY KEY (series=? AND open_time<?)"},
		{"unrolled", unrolledSQL, "SEARCH p USING PRIMARY KEY (series=? AND open_time=?)"},
		{"in", inSQL(3), "SEARCH b USING PRIMARY KEY (series=? AND open_time=?)"},
		{"chunk bound", chunkBoundSQL, "SEARCH bins USING PRIMARY KEY (series=? AND open_time<?)"},
		{"delete old", deleteOldSQL, "SEARCH bins USING PRIMARY KEY (series=? AND open_time<?)"},
		// Listing the series walks them all (each once), and seeks bins.
		{"stored series", storedSeriesSQL, "SEARCH bins EXISTS USING COVERING INDEX bins_seq (series=?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := make([]any, strings.Count(tc.sql, "?"))
			for i := range args {
				args[i] = "x"
			}
			rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+tc.sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			joined := strings.Join(plan, "; ")
			walks := strings.Contains(joined, "SCAN b") || strings.Contains(joined, "SCAN bins") ||
				tc.sql != storedSeriesSQL && (strings.Contains(joined, "SCAN s") || strings.Contains(joined, "SCAN series"))
			if !strings.Contains(joined, tc.want) || walks {
				t.Fatalf("plan %q, want %q and no scan of bins or series", plan, tc.want)
			}
		})
	}
}
