package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/store"
)

// TestRetention: the floor of the change log moves up to the head of the
// newest minute older than the change retention, so older cursors resync;
// candles older than a configured candle retention are forgotten, and
// the others kept.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	now := t0
	s, err := Open(ctx, pgtest.Fresh(t), Options{Now: func() time.Time { return now },
		Retention: config.Retention{Changes: 5 * time.Minute, Candles: time.Hour}}) // candles: a day and an hour
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := market.MustDecimal("1")
	at := func(open time.Time) market.Candle {
		return market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: open.UnixMilli(), Open: p, High: p, Low: p,
			Close: p, Volume: p, Quote: p, Trades: 1, State: market.Reconciled, Source: market.SourceREST}
	}
	if _, err := s.Upsert(ctx, []market.Candle{at(t0.Add(-26 * time.Hour)), at(t0.Add(-24 * time.Hour)), at(t0.Add(-time.Minute))}); err != nil {
		t.Fatal(err)
	}
	first, _ := s.Head(ctx)
	now = t0.Add(10 * time.Minute)
	if _, err := s.Upsert(ctx, []market.Candle{at(now.Add(-time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	floor, head, err := s.Window(ctx)
	if err != nil || floor != first || head != first+1 {
		t.Fatalf("window %d..%d, %v; want %d..%d", floor, head, err, first, first+1)
	}
	cs, err := s.Candles(ctx, market.Default, market.I1m, 0, 1<<62)
	if err != nil || len(cs) != 3 || cs[0].OpenTime != t0.Add(-24*time.Hour).UnixMilli() {
		t.Fatalf("kept %+v, %v; want the three of the last day and an hour", cs, err)
	}
	if err := s.Retain(ctx); err != nil { // again: nothing more to do
		t.Fatal(err)
	}
	if f, _, _ := s.Window(ctx); f != first {
		t.Fatalf("floor %d after a second pass, want %d", f, first)
	}
}

// TestRestoredStartsANewEpoch: a change log found on another server or
// timeline than it was written on (a restore, a recovery, a failover)
// starts a higher epoch whose first number is above every old one, with
// its floor there: every cursor handed out before resyncs.
func TestRestoredStartsANewEpoch(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Fresh(t)
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := market.MustDecimal("1")
	if _, err := s.Upsert(ctx, []market.Candle{{Market: market.Default, Interval: market.I1m, Open: p, High: p, Low: p, Close: p,
		Volume: p, Quote: p, State: market.Closed, Source: market.SourceTrades}}); err != nil {
		t.Fatal(err)
	}
	old := s.Epoch()
	oldHead, _ := s.Head(ctx)
	if _, err := s.pool.Exec(ctx, `UPDATE candle_head SET server = 'another/1'`); err != nil { // as if restored elsewhere
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, dsn, Options{}); err != nil {
		t.Fatal(err)
	}
	floor, head, err := s.Window(ctx)
	if err != nil || s.Epoch() <= old || floor != s.Epoch()<<40 || head != floor || oldHead >= floor {
		t.Fatalf("after a restore: epoch %d (was %d), window %d..%d (old head %d), %v", s.Epoch(), old, floor, head, oldHead, err)
	}
	s.Close()
	again, err := Open(ctx, dsn, Options{}) // the same server again: the same epoch
	if err != nil || again.Epoch() != s.Epoch() {
		t.Fatalf("reopened: epoch %d, want %d (%v)", again.Epoch(), s.Epoch(), err)
	}
	defer again.Close()

	// A store written before the database was part of the name keeps its
	// epoch; a failover under a running node is found by the upkeep.
	var here string
	if err := again.pool.QueryRow(ctx, whereSQL).Scan(&here); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		server string
		moved  bool
	}{
		{here[:strings.LastIndex(here, "/")], false},
		{here[:strings.Index(here, "/")] + "/7", false}, // named before the database was, on another timeline then
		{here + "0", true},
		{strings.Replace(here, "/", "/9", 1), true},
	} {
		before := again.Epoch()
		if _, err := again.pool.Exec(ctx, `UPDATE candle_head SET server = $1`, c.server); err != nil {
			t.Fatal(err)
		}
		if _, err := restored(ctx, again.pool, again.log); err != nil { // as Run's pass
			t.Fatal(err)
		}
		if _, _, err := again.Window(ctx); err != nil || (again.Epoch() != before) != c.moved {
			t.Fatalf("written on %q, now on %q: epoch %d (was %d), want a new one: %v (%v)", c.server, here, again.Epoch(), before, c.moved, err)
		}
	}
}

// TestEpochBounds: a new store's epoch is drawn from the lower half, so it
// has room to move up, and a head that outgrows its epoch's numbers moves
// the store to the epoch they carry.
func TestEpochBounds(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t)
	e := s.Epoch()
	if e < 1 || e > store.MaxEpoch/2 {
		t.Fatalf("a new store's epoch %d, want 1..%d", e, store.MaxEpoch/2)
	}
	last := (e+1)<<store.EpochShift - 1
	if _, err := s.pool.Exec(ctx, `UPDATE candle_head SET seq = $1`, last); err != nil {
		t.Fatal(err)
	}
	p := market.MustDecimal("1")
	r, err := s.Upsert(ctx, []market.Candle{{Market: market.Default, Interval: market.I1m, Open: p, High: p, Low: p, Close: p,
		Volume: p, Quote: p, State: market.Closed, Source: market.SourceTrades}})
	if err != nil || len(r.Changed) != 1 || r.Changed[0].Seq != last+1 {
		t.Fatalf("the write past the epoch's last number: %+v, %v", r, err)
	}
	if _, head, err := s.Window(ctx); err != nil || s.Epoch() != e+1 || head != last+1 {
		t.Fatalf("epoch %d (was %d), head %d: want epoch %d (%v)", s.Epoch(), e, head, e+1, err)
	}
}
