package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	candles "github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// day0 is a day's first minute, so that every coarser bin starts there.
const day0 = int64(1_700_006_400_000)

// minute is a version of minute i of m, as a collector's writer flushes
// it: its close and volume grow with the version v.
func minute(m market.Market, i, v int, st market.State) market.Candle {
	p := market.MustDecimal(fmt.Sprintf("%d.%d", 100+i%7, v))
	return market.Candle{Market: m, Interval: market.I1m, OpenTime: day0 + int64(i)*60_000, Open: market.MustDecimal("100"),
		High: market.MustDecimal("110"), Low: market.MustDecimal("90"), Close: p, Volume: market.MustDecimal(fmt.Sprint(1 + v)),
		Quote: market.Zero, Trades: int64(1 + v), State: st, Source: market.SourceTrades}
}

// rollup is the collector's derive: every coarser bin of the changes.
func rollup(ctx context.Context, r store.Reader, changed []market.Candle) ([]market.Candle, error) {
	return candles.Rollup(ctx, r, changed)
}

// TestWritesReadNothingBack: a writer alone on its markets merges and
// rolls up from the rows it knows it stored: once it has learnt each
// series, a flush of new versions and new minutes, with every coarser
// bin rebuilt, reads no stored row. Without the cache the same flushes
// read back tens of rows each.
func TestWritesReadNothingBack(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		cache   bool
		atLeast int64 // rows read by the flushes after the first minutes
		atMost  int64
	}{
		{"with the cache", true, 0, 0},
		{"without it", false, 1000, 1 << 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openFresh(t)
			if !c.cache {
				s.recent = nil
			}
			ms := []market.Market{{Venue: "binance", Symbol: "BTCUSDT"}, {Venue: "okx", Symbol: "ETH-USDT"}}
			var warm int64
			for i := range 40 {
				if i == 3 {
					warm = s.readBack.Load()
				}
				for v, st := range []market.State{market.Provisional, market.Provisional, market.Closed} {
					var batch []market.Candle
					for _, m := range ms {
						batch = append(batch, minute(m, i, v, st))
						if i > 0 && v == 0 { // the previous minute's final
							batch = append(batch, minute(m, i-1, 3, market.Reconciled))
						}
					}
					if _, _, err := s.Write(ctx, batch, rollup); err != nil {
						t.Fatal(err)
					}
				}
			}
			read := s.readBack.Load() - warm
			t.Logf("the 111 flushes after the first 3 minutes read %d stored rows", read)
			if read < c.atLeast || read > c.atMost {
				t.Errorf("they should read %d to %d", c.atLeast, c.atMost)
			}
			for _, m := range ms {
				if bad := storetest.WrongRollups(t, s, m); len(bad) > 0 {
					t.Fatalf("%s: %d wrong rollups, first %s", m, len(bad), bad[0])
				}
			}
		})
	}
}

// twoWriters is a store whose writes go, at random, to one of two
// processes' stores on the same database, each with its own cache.
type twoWriters struct {
	*Store
	other *Store
	rng   *rand.Rand
}

func (w *twoWriters) Write(ctx context.Context, cs []market.Candle, derive store.Derive) (res, derived store.Result, err error) {
	if w.rng.IntN(2) == 0 {
		return w.other.Write(ctx, cs, derive)
	}
	return w.Store.Write(ctx, cs, derive)
}

// TestTwoWritersStayExact: two processes writing the same markets' bins,
// each merging against and rolling up from its own cache, store exactly
// what one SQLite writer stores from the same batches (rolled-back
// transactions included), and every coarser bin is its parts' aggregate.
// Each sees the other's rows by their sequence numbers and reads them
// again.
func TestTwoWritersStayExact(t *testing.T) {
	dsn := pgtest.Fresh(t)
	open := func() *Store {
		s, err := Open(context.Background(), dsn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ref, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ref.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	a, b := open(), open()
	storetest.SameUnderRandomWrites(t, &twoWriters{Store: a, other: b, rng: rand.New(rand.NewPCG(7, 8))}, ref, 5, 300, 50)
	if a.readBack.Load() == 0 || b.readBack.Load() == 0 {
		t.Errorf("rows read back: %d and %d; each writer must read what the other wrote", a.readBack.Load(), b.readBack.Load())
	}
}

// TestCacheForgetsWhatWasDeleted: another process's retention deletes the
// 15m bins (and finer) before a minute; the writer, which cached them,
// then rebuilds the 30m bin over them from what is left, not from its
// cache: the delete raised the head's cut, and the cache forgot the rows
// below it.
func TestCacheForgetsWhatWasDeleted(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Fresh(t)
	w, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	other, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	m := market.Market{Venue: "binance", Symbol: "BTCUSDT"}
	for i := range 20 {
		if _, _, err := w.Write(ctx, []market.Candle{minute(m, i, 0, market.Closed)}, rollup); err != nil {
			t.Fatal(err)
		}
	}
	cut := day0 + 15*60_000
	for _, iv := range []market.Interval{market.I1m, market.I3m, market.I5m, market.I15m} {
		if _, err := other.DeleteBefore(ctx, market.Series{Market: m, Interval: iv}, cut, 1000); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.Write(ctx, []market.Candle{minute(m, 17, 1, market.Reconciled)}, rollup); err != nil {
		t.Fatal(err)
	}
	if bad := storetest.WrongRollups(t, w, m); len(bad) > 0 {
		t.Fatalf("%d wrong rollups, first %s", len(bad), bad[0])
	}
}

// TestRestamp: what the cache forgets when the head's stamp changed.
func TestRestamp(t *testing.T) {
	ctx := context.Background()
	m := market.Market{Venue: "v", Symbol: "S"}
	was := stamp{cut: day0, epoch: 5}
	for _, c := range []struct {
		name      string
		now       stamp
		keepAsOf  bool
		knownFrom int64 // the first minute still answered; -1: none
	}{
		{"the same", was, true, 5}, // the cache keeps two 5m bins behind the newest minute
		{"a higher cut", stamp{cut: day0 + 10*60_000, epoch: 5}, true, 10},
		{"a lower cut (restored)", stamp{cut: day0 - 60_000, epoch: 5}, false, -1},
		{"another epoch", stamp{cut: day0, epoch: 6}, false, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRecent()
			r.stamp, r.asOf[m] = was, 42
			var rows []market.Candle
			for i := range 20 {
				rows = append(rows, minute(m, i, 0, market.Closed))
			}
			load := func(context.Context, market.Market, market.Interval, int64, int) ([]market.Candle, error) {
				return rows, nil
			}
			tx := r.bins.Begin(load)
			if _, known, err := tx.Get(ctx, rows[0].Key()); err != nil || !known {
				t.Fatalf("learning the series: %v, %v", known, err)
			}
			tx.Commit()
			view := r.bins.Begin(func(context.Context, market.Market, market.Interval, int64, int) ([]market.Candle, error) {
				return nil, nil // a new load would know nothing below: it must not happen for what is kept
			})
			r.restamp(view, c.now)
			if _, ok := r.asOf[m]; ok != c.keepAsOf || r.stamp != c.now {
				t.Fatalf("as-of kept %v, want %v; stamp %+v", ok, c.keepAsOf, r.stamp)
			}
			for i, row := range rows {
				got, known, _ := view.Get(ctx, row.Key())
				want := c.knownFrom >= 0 && int64(i) >= c.knownFrom
				if want != (known && got != nil) {
					t.Fatalf("minute %d: known %v (row %v), want %v", i, known, got != nil, want)
				}
			}
		})
	}
}
