package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestConcurrentWritersAndCursor: four stores (four pools, as four
// processes would have) write random versions of the same 20 series' bins
// at once while a reader polls Since from its cursor. Afterwards:
//   - no update was lost: each bin's revision equals the number of changes
//     the writers were told they made to it;
//   - the reader missed nothing: the newest version it saw of every bin is
//     the stored one, and the sequence it read only ever grew.
func TestConcurrentWritersAndCursor(t *testing.T) {
	dsn := pgtest.Fresh(t)
	db, err := Open(context.Background(), dsn, Options{}) // the reader's; the writers open their own
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var series []market.Series
	for i := range 20 {
		series = append(series, market.Series{Market: market.Market{Venue: "v", Symbol: fmt.Sprintf("S%d", i)}, Interval: market.I1m})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	changes := make([]map[market.Key]int64, 4)
	var wg sync.WaitGroup
	for w := range changes {
		s, err := Open(ctx, dsn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		changes[w] = map[market.Key]int64{}
		wg.Add(1)
		go func() { defer wg.Done(); write(ctx, t, s, series, uint64(w), changes[w]) }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := readAll(ctx, t, db, series, done)

	want := map[market.Key]int64{}
	for _, ch := range changes {
		for k, n := range ch {
			want[k] += n
		}
	}
	final := map[market.Key]market.Candle{}
	for _, sr := range series {
		cs, err := db.Candles(ctx, sr.Market, sr.Interval, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			final[c.Key()] = c
		}
	}
	if len(final) != len(want) || len(final) == 0 {
		t.Fatalf("%d bins stored, writers changed %d", len(final), len(want))
	}
	for k, c := range final {
		if c.Rev != want[k] {
			t.Errorf("%v: revision %d, writers made %d changes (a lost update)", k, c.Rev, want[k])
		}
		if got := seen[k]; got.Seq != c.Seq || got.Rev != c.Rev {
			t.Errorf("%v: the reader's newest is seq %d rev %d, stored seq %d rev %d", k, got.Seq, got.Rev, c.Seq, c.Rev)
		}
	}
}

// write upserts random versions of random bins of series for a while,
// counting the changes the store reports.
func write(ctx context.Context, t *testing.T, s *Store, series []market.Series, seed uint64, changes map[market.Key]int64) {
	r := rand.New(rand.NewPCG(seed, 7))
	for range 150 {
		var batch []market.Candle
		for range 1 + r.IntN(40) {
			sr := series[r.IntN(len(series))]
			p := market.MustDecimal(fmt.Sprint(100 + r.IntN(3)))
			batch = append(batch, market.Candle{Market: sr.Market, Interval: sr.Interval, OpenTime: int64(r.IntN(8)) * 60_000,
				Open: p, High: p, Low: p, Close: p, Volume: market.Zero, Quote: market.Zero, State: market.State(r.IntN(3)),
				Source: market.SourceTrades})
		}
		res, err := s.Upsert(ctx, batch)
		if err != nil {
			t.Error(err)
			return
		}
		for _, c := range res.Changed {
			changes[c.Key()]++
		}
	}
}

// readAll polls Since until done is closed and then once more, and
// returns the newest version seen of each bin. It fails the test if the
// sequence ever goes back.
func readAll(ctx context.Context, t *testing.T, s *Store, series []market.Series, done <-chan struct{}) map[market.Key]market.Candle {
	seen := map[market.Key]market.Candle{}
	var cursor int64
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		for {
			cs, err := s.Since(ctx, series, cursor, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Seq <= cursor {
					t.Fatalf("seq %d after cursor %d", c.Seq, cursor)
				}
				cursor = c.Seq
				seen[c.Key()] = c
			}
			if len(cs) < 100 {
				break
			}
		}
		if finished {
			return seen
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGuardInTheDatabase: the upsert itself, without the head lock or the
// merge before it, refuses a version that would lose an update, move a
// bin back in its lifecycle, or take a 1m bin back to less evidence; it
// takes the ones market.Merge takes.
func TestGuardInTheDatabase(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	base := market.Candle{Market: market.Default, Interval: market.I1m, Open: market.MustDecimal("1"), High: market.MustDecimal("2"),
		Low: market.MustDecimal("1"), Close: market.MustDecimal("2"), Volume: market.MustDecimal("5"), Quote: market.Zero, Trades: 4,
		State: market.Closed, Source: market.SourceTrades}
	if _, err := s.Upsert(ctx, []market.Candle{base}); err != nil { // rev 1
		t.Fatal(err)
	}
	with := func(rev int64, st market.State, vol string, n int64) market.Candle {
		c := base
		c.Rev, c.State, c.Volume, c.Trades, c.Close = rev, st, market.MustDecimal(vol), n, market.MustDecimal("3")
		return c
	}
	for _, c := range []struct {
		name string
		in   market.Candle
		ok   bool
	}{
		{"the same revision again (a lost update)", with(1, market.Closed, "6", 5), false},
		{"an earlier state", with(2, market.Provisional, "9", 9), false},
		{"less volume", with(2, market.Closed, "4", 9), false},
		{"as much volume, fewer trades", with(2, market.Closed, "5", 3), false},
		{"more volume", with(2, market.Closed, "6", 1), true},
		{"the venue's final with less", with(3, market.Reconciled, "1", 1), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				pw := newPending(1)
				pw.add(c.in, false)
				return pw.write(ctx, tx)
			})
			if ok := err == nil; ok != c.ok || !ok && !errors.Is(err, ErrLostGuard) {
				t.Fatalf("written: %v, want %v", err, c.ok)
			}
		})
	}
}

// TestReadAheadSeesAWriteInBetween: a batch that merged against rows read
// before it took the head lock, while another writer stored a newer
// version of the same bin, does not write its merge: it merges again
// under the lock, against the newer version. A batch whose series nobody
// wrote in between writes its merge, numbered after the head.
func TestReadAheadSeesAWriteInBetween(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	one := market.MustDecimal("1")
	bin := func(sym string, vol string, st market.State) market.Candle {
		return market.Candle{Market: market.Market{Venue: "binance", Symbol: sym}, Interval: market.I1m, OpenTime: 60_000,
			Open: one, High: one, Low: one, Close: one, Volume: market.MustDecimal(vol), Quote: market.Zero, Trades: 1,
			State: st, Source: market.SourceTrades}
	}
	for _, c := range []struct {
		name      string
		other     market.Candle // stored between the read and the lock
		mine      market.Candle
		settled   bool
		wantVol   string
		wantState market.State
	}{
		{"the same bin, newer in between", bin("A", "7", market.Reconciled), bin("A", "6", market.Closed), false, "7", market.Reconciled},
		{"another series in between", bin("C", "7", market.Closed), bin("B", "6", market.Closed), true, "6", market.Closed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Upsert(ctx, []market.Candle{bin(c.mine.Market.Symbol, "5", market.Closed), bin(c.other.Market.Symbol, "5", market.Closed)}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			var settled bool
			err := s.locked(ctx, now, nil, func(b *batch) error {
				h, have, err := b.readAhead(ctx, []market.Candle{c.mine})
				if err != nil {
					return err
				}
				if _, err := s.Upsert(ctx, []market.Candle{c.other}); err != nil { // on another connection
					return err
				}
				if _, settled, err = b.settle(ctx, []market.Candle{c.mine}, now, h, have); err != nil || settled {
					return err
				}
				_, err = b.merge(ctx, []market.Candle{c.mine}, now)
				return err
			})
			if err != nil || settled != c.settled {
				t.Fatalf("write: %v; merge read ahead stood: %v, want %v", err, settled, c.settled)
			}
			got, err := s.Candles(ctx, c.mine.Market, market.I1m, 0, 1<<50)
			if err != nil || len(got) != 1 || got[0].Volume.String() != c.wantVol || got[0].State != c.wantState {
				t.Fatalf("stored %+v, %v; want volume %s, state %v", got, err, c.wantVol, c.wantState)
			}
			head, err := s.Head(ctx)
			if err != nil || got[0].Seq > head {
				t.Fatalf("seq %d above the head %d (%v)", got[0].Seq, head, err)
			}
		})
	}
}

// TestUnchangedTakesNoLock: a batch that changes nothing is answered
// while another transaction holds the head lock.
func TestUnchangedTakesNoLock(t *testing.T) {
	s := openFresh(t)
	ctx := context.Background()
	p := market.MustDecimal("1")
	c := market.Candle{Market: market.Default, Interval: market.I1m, Open: p, High: p, Low: p, Close: p, Volume: p, Quote: p,
		Trades: 1, State: market.Closed, Source: market.SourceTrades}
	if _, err := s.Upsert(ctx, []market.Candle{c}); err != nil {
		t.Fatal(err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // the test's lock only
	if _, err := tx.Exec(ctx, `SELECT seq FROM candle_head WHERE id = 1 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second) // far above a write; far below lock_timeout
	defer cancel()
	r, err := s.Upsert(wctx, []market.Candle{c})
	if err != nil || r.Unchanged != 1 || len(r.Changed) != 0 {
		t.Fatalf("the same candle again while the head is locked: %+v, %v", r, err)
	}
}
