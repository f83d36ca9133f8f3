package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/bincache"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// recent is a writer's cache of the rows it last knew stored
// (bincache.Cache), made safe on a store other processes write. For each
// market it remembers the head (sequence number) at which its cached rows
// were the stored ones, and the head's stamp then. A write trusts a
// market's rows only once it has seen, in its own transaction, that no row
// of the market was stored after that head: every insert or update of a
// row numbers it above the head, under the head lock. What that cannot
// show is in the stamp: a delete raises the head's cut above the rows it
// removed, and a restore starts a new epoch.
type recent struct {
	mu    sync.Mutex // held by the one write that uses the cache
	bins  *bincache.Cache
	asOf  map[market.Market]int64
	stamp stamp
}

// stamp is what the head says of deletes and restores.
type stamp struct {
	cut   int64 // no delete removed a row that opened at or after it
	epoch int32
}

func newRecent() *recent {
	return &recent{bins: bincache.New(), asOf: map[market.Market]int64{}}
}

// restamp brings the cache to the head's stamp st: rows below a higher cut
// are forgotten; after a restore (another epoch, or a cut that went back)
// everything is.
func (r *recent) restamp(view *bincache.Tx, st stamp) {
	switch {
	case st == r.stamp:
		return
	case st.epoch != r.stamp.epoch || st.cut < r.stamp.cut:
		view.ForgetAll()
		clear(r.asOf)
	default:
		view.Cut(st.cut)
	}
	r.stamp = st
}

// forgetAll drops everything the cache knows.
func (r *recent) forgetAll() {
	r.bins, r.stamp = bincache.New(), stamp{}
	clear(r.asOf)
}

// begin starts a transaction's use of the cache.
func (r *recent) begin(b *batch) {
	b.view = r.bins.Begin(b.load)
	b.trusted, b.unlockedAt = map[market.Market]bool{}, map[market.Market]int64{}
}

// done ends a transaction's use of the cache: when it committed, what it
// loaded and wrote is applied, and the markets it trusted are known as of
// head, the head it left; when it failed, the cache is forgotten (it may
// have been wrong: a guard refused a row).
func (r *recent) done(b *batch, committed bool, head int64) {
	if !committed {
		r.forgetAll()
		return
	}
	b.view.Commit()
	for m := range b.trusted {
		r.asOf[m] = head
	}
	for m, h := range b.unlockedAt {
		if !b.trusted[m] {
			r.asOf[m] = h
		}
	}
}

// load reads a series' rows for the cache, in the transaction.
func (b *batch) load(ctx context.Context, m market.Market, iv market.Interval, from int64, limit int) ([]market.Candle, error) {
	cs, err := rangeOf(ctx, b.tx, m, iv, from, 1<<62, int64(limit))
	b.readBack.Add(int64(len(cs)))
	return cs, err
}

// movedSQL reads the head and its stamp, and which of the markets given
// (with the head each was last known at) had a row stored since: their
// ordinals, from 1.
const movedSQL = `SELECT h.seq, h.cut, h.epoch, ARRAY(
		SELECT DISTINCT k.n FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS k(v, s, after, n)
		JOIN series sr ON sr.venue = k.v AND sr.symbol = k.s
		WHERE EXISTS (SELECT 1 FROM candles c WHERE c.series = sr.id AND c.seq > k.after))
	FROM candle_head h WHERE h.id = 1`

// moved runs movedSQL over ms, each after its head in after.
func (b *batch) moved(ctx context.Context, ms []market.Market, after []int64) (head int64, st stamp, moved []int64, err error) {
	vs, ss := make([]string, len(ms)), make([]string, len(ms))
	for i, m := range ms {
		vs[i], ss[i] = m.Venue, m.Symbol
	}
	if err := b.tx.QueryRow(ctx, movedSQL, vs, ss, after).Scan(&head, &st.cut, &st.epoch, &moved); err != nil {
		return 0, st, nil, fmt.Errorf("look for rows of %d markets stored since the cache knew them: %w", len(ms), err)
	}
	return head, st, moved, nil
}

// trust makes the cache's rows of ms the stored ones, under the head lock:
// it forgets those of a market stored since the cache knew it (or never
// known), and reports whether it forgot any, so that a merge that read
// them before the lock reads them again.
func (b *batch) trust(ctx context.Context, ms []market.Market) (forgot bool, err error) {
	r := b.recent
	r.restamp(b.view, b.stamp)
	var ask []market.Market
	var after []int64
	for _, m := range ms {
		switch a, ok := r.asOf[m]; {
		case b.trusted[m]:
			continue
		case !ok || a > b.start: // never known, or known on a store that went back
			b.view.ForgetMarket(m)
			forgot = true
		case a < b.start:
			ask, after = append(ask, m), append(after, a)
		}
		b.trusted[m] = true // from here on its rows are read under the lock
	}
	if len(ask) == 0 {
		return forgot, nil
	}
	_, _, moved, err := b.moved(ctx, ask, after)
	for _, n := range moved {
		b.view.ForgetMarket(ask[n-1])
		forgot = true
	}
	return forgot, err
}

// unchanged reports whether the cache's rows of ms are the stored ones,
// without the head lock: a batch merged against them that changes nothing
// is then answered without taking it.
func (b *batch) unchanged(ctx context.Context, ms []market.Market) (bool, error) {
	r := b.recent
	after := make([]int64, len(ms))
	for i, m := range ms {
		a, ok := r.asOf[m]
		if !ok {
			return false, nil
		}
		after[i] = a
	}
	head, st, moved, err := b.moved(ctx, ms, after)
	if err != nil || st != r.stamp || len(moved) > 0 {
		return false, err
	}
	for i, m := range ms {
		if after[i] > head {
			return false, nil
		}
		b.unlockedAt[m] = head
	}
	return true, nil
}

// cached merges cs against the cache's rows, when it knows every bin of
// cs, and writes the merge once those rows are known to be the stored
// ones (trust), numbered after the head. done is false when the cache
// cannot answer (a series not yet stored, a bin older than it keeps, a
// market another writer moved while the batch held no lock): the caller
// reads the stored rows.
func (b *batch) cached(ctx context.Context, cs []market.Candle, now time.Time) (r store.Result, done bool, err error) {
	if b.view == nil || !b.known.hasAll(cs) {
		return r, false, nil
	}
	ms := marketsOf(cs)
	if b.held {
		if _, err := b.trust(ctx, ms); err != nil {
			return r, false, err
		}
	}
	have, ok, err := b.lookup(ctx, cs)
	if err != nil || !ok {
		return r, false, err
	}
	if b.held {
		return b.write(ctx, cs, have, now)
	}
	var n int64
	r, pw, added, err := plan(cs, have, now, &n)
	if err != nil {
		return r, false, err
	}
	if n == 0 {
		ok, err := b.unchanged(ctx, ms)
		return r, ok, err
	}
	if err := b.lock(ctx); err != nil {
		return r, false, err
	}
	if forgot, err := b.trust(ctx, ms); err != nil || forgot {
		if err != nil {
			return r, false, err
		}
		return b.cached(ctx, cs, now) // under the lock now
	}
	renumber(r, pw, b.seq)
	b.seq += n
	b.added += added
	b.wrote(pw)
	return r, true, pw.write(ctx, b.tx)
}

// write merges cs against have, the stored rows, under the head lock.
func (b *batch) write(ctx context.Context, cs []market.Candle, have map[market.Key]*market.Candle, now time.Time) (store.Result, bool, error) {
	r, pw, added, err := plan(cs, have, now, &b.seq)
	if err != nil {
		return r, false, err
	}
	b.added += added
	b.wrote(pw)
	return r, true, pw.write(ctx, b.tx)
}

// renumber moves the rows of a merge numbered from 0 to after base.
func renumber(r store.Result, pw *pending, base int64) {
	for i := range pw.rows {
		pw.rows[i].Seq += base
	}
	for i := range r.Changed {
		r.Changed[i].Seq += base
	}
}

// lookup reads the stored rows of cs's bins from the cache; ok is false
// when it cannot say for one of them.
func (b *batch) lookup(ctx context.Context, cs []market.Candle) (map[market.Key]*market.Candle, bool, error) {
	have := make(map[market.Key]*market.Candle, len(cs))
	for _, c := range cs {
		k := c.Key()
		got, known, err := b.view.Get(ctx, k)
		if err != nil || !known {
			return nil, false, err
		}
		if got != nil {
			have[k] = got
		}
	}
	return have, true, nil
}

func marketsOf(cs []market.Candle) []market.Market {
	var ms []market.Market
	seen := map[market.Market]bool{}
	for _, c := range cs {
		if !seen[c.Market] {
			seen[c.Market] = true
			ms = append(ms, c.Market)
		}
	}
	return ms
}

// cachedWindows answers a rollup's reads (store.Reader) from the cache for
// the markets the write trusts, and otherwise from the windows read in
// one statement (readWindows), read when first needed.
type cachedWindows struct {
	b       *batch
	changed []market.Candle
	win     *windowReader
}

// Candles implements store.Reader.
func (r *cachedWindows) Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	if r.b.view != nil && r.b.trusted[m] {
		if cs, known, err := r.b.view.Range(ctx, m, iv, from, to); known || err != nil {
			return cs, err
		}
	}
	if r.win == nil {
		w, err := readWindows(ctx, r.b.tx, r.changed)
		if err != nil {
			return nil, err
		}
		r.b.readBack.Add(int64(w.n))
		r.win = w
	}
	return r.win.Candles(ctx, m, iv, from, to)
}
