package bincache

import (
	"context"

	"github.com/candlewire/candlewire/internal/market"
)

// maxSeries bounds the cache: past it, it forgets every series (and learns
// again what is written next).
const maxSeries = 1 << 16

// maxSpan is the most bins of one range Range answers.
const maxSpan = 64

// maxLoad is the most rows a series is learnt with: a series with more
// stored from the window asked on (a backfill of old days, a repair of an
// old minute) is left to the store, as it would be past the cache's keep.
const maxLoad = 256

// Loader reads the stored rows of a series with open time at or after
// from, oldest first, at most limit of them, inside the writer's
// transaction.
type Loader func(ctx context.Context, m market.Market, iv market.Interval, from int64, limit int) ([]market.Candle, error)

// Cache is the writer's knowledge of its recent bins. It is used under
// the store's writer lock, by one transaction at a time.
type Cache struct {
	series map[seriesKey]*rows
}

type seriesKey struct {
	m  market.Market
	iv market.Interval
}

// rows are every stored row of a series with open time at or after from.
type rows struct {
	from   int64
	newest int64
	at     map[int64]market.Candle
}

// New returns an empty cache.
func New() *Cache { return &Cache{series: map[seriesKey]*rows{}} }

// Forget drops what the cache knows of a series (the store deleted some of
// its rows); it learns it again from the store when next written.
func (c *Cache) Forget(m market.Market, iv market.Interval) {
	if c != nil {
		delete(c.series, seriesKey{m, iv})
	}
}

// Tx is one write transaction's view of the cache: what it loaded and
// wrote stays its own until Commit.
type Tx struct {
	c      *Cache
	load   Loader
	loaded map[seriesKey]*rows
	wrote  map[seriesKey]map[int64]market.Candle // by series, then open time
}

// Begin starts a transaction's view; load reads a series the cache does
// not know yet. A transaction that rolls back is simply dropped. A nil
// cache knows nothing: its transactions send every read to the store.
func (c *Cache) Begin(load Loader) *Tx {
	if c == nil {
		return &Tx{}
	}
	return &Tx{c: c, load: load, loaded: map[seriesKey]*rows{}, wrote: map[seriesKey]map[int64]market.Candle{}}
}

// Get returns the stored row of bin k, or nil when the store has none;
// known is false when the cache cannot say (read the store).
func (t *Tx) Get(ctx context.Context, k market.Key) (c *market.Candle, known bool, err error) {
	if t.c == nil || k.Interval.Millis() == 0 { // an unknown interval is the store's to refuse
		return nil, false, nil
	}
	sk := seriesKey{k.Market, k.Interval}
	if w, ok := t.wrote[sk][k.OpenTime]; ok {
		return &w, true, nil
	}
	r, err := t.rows(ctx, sk, k.OpenTime)
	if err != nil || r == nil || k.OpenTime < r.from {
		return nil, false, err
	}
	if s, ok := r.at[k.OpenTime]; ok {
		return &s, true, nil
	}
	return nil, true, nil
}

// Range returns the stored rows of a series with open time in [from, to),
// oldest first; known is false when the cache cannot say.
func (t *Tx) Range(ctx context.Context, m market.Market, iv market.Interval, from, to int64) (out []market.Candle, known bool, err error) {
	step := iv.Millis()
	if t.c == nil || step == 0 || iv.Truncate(from) != from || (to-from)/step > maxSpan {
		return nil, false, nil
	}
	sk := seriesKey{m, iv}
	r, err := t.rows(ctx, sk, from)
	if err != nil || r == nil || from < r.from {
		return nil, false, err
	}
	wrote := t.wrote[sk]
	for at := from; at < to; at += step {
		if w, ok := wrote[at]; ok {
			out = append(out, w)
		} else if s, ok := r.at[at]; ok {
			out = append(out, s)
		}
	}
	return out, true, nil
}

// Wrote records rows the transaction stored.
func (t *Tx) Wrote(cs []market.Candle) {
	if t.c == nil {
		return
	}
	for _, c := range cs {
		sk := seriesKey{c.Market, c.Interval}
		if t.wrote[sk] == nil {
			t.wrote[sk] = map[int64]market.Candle{}
		}
		t.wrote[sk][c.OpenTime] = c
	}
}

// rows returns what is known of series sk, learning it from the store
// (from the window around at) when the cache does not know it; nil when
// the series has too many rows from there on to learn.
func (t *Tx) rows(ctx context.Context, sk seriesKey, at int64) (*rows, error) {
	if r := t.loaded[sk]; r != nil {
		return r, nil
	}
	if r := t.c.series[sk]; r != nil {
		return r, nil
	}
	from := windowStart(sk.iv, at)
	cs, err := t.load(ctx, sk.m, sk.iv, from, maxLoad+1)
	if err != nil || len(cs) > maxLoad {
		return nil, err
	}
	r := &rows{from: from, newest: from, at: make(map[int64]market.Candle, len(cs))}
	for _, c := range cs {
		r.put(c)
	}
	t.loaded[sk] = r
	return r, nil
}

// Commit applies what the transaction loaded and wrote, after the store
// committed it, and forgets rows older than the windows a write reads.
func (t *Tx) Commit() {
	if t.c == nil {
		return
	}
	if len(t.c.series)+len(t.loaded) > maxSeries {
		clear(t.c.series)
		return
	}
	for sk, r := range t.loaded {
		t.c.series[sk] = r
		r.trim(sk.iv) // a series only read keeps no more than one written
	}
	for sk, cs := range t.wrote {
		r := t.c.series[sk]
		if r == nil {
			continue
		}
		for at, c := range cs {
			if at >= r.from {
				r.put(c)
			}
		}
		r.trim(sk.iv)
	}
}

func (r *rows) put(c market.Candle) {
	r.at[c.OpenTime] = c
	r.newest = max(r.newest, c.OpenTime)
}

// trim forgets the rows before the windows around the newest bin.
func (r *rows) trim(iv market.Interval) {
	r.cut(windowStart(iv, r.newest-keep(iv)))
}

// windowStart is where the earliest window that a rollup reads around at
// starts: a parent's bin holding at (each parent is built from iv), or
// at's own bin for an interval nothing is built from.
func windowStart(iv market.Interval, at int64) int64 {
	from := iv.Truncate(at)
	for _, p := range iv.Parents() {
		from = min(from, p.Truncate(at))
	}
	return from
}

// keep is how far before its newest bin a series is kept: two of its
// widest parent's bins.
func keep(iv market.Interval) int64 {
	w := iv.Millis()
	for _, p := range iv.Parents() {
		w = max(w, p.Millis())
	}
	return 2 * w
}

// ForgetMarket drops what the cache, and this transaction's loads, know of
// every series of m (another writer stored some of its rows); the rows the
// transaction wrote stay, to be applied at Commit to a series it learns
// again.
func (t *Tx) ForgetMarket(m market.Market) {
	if t.c == nil {
		return
	}
	for _, series := range []map[seriesKey]*rows{t.c.series, t.loaded} {
		for sk := range series {
			if sk.m == m {
				delete(series, sk)
			}
		}
	}
}

// Cut forgets, in the cache and this transaction's loads, every row that
// opened before before (the store deleted rows below it): each series is
// then known from before on.
func (t *Tx) Cut(before int64) {
	if t.c == nil {
		return
	}
	for _, series := range []map[seriesKey]*rows{t.c.series, t.loaded} {
		for _, r := range series {
			r.cut(before)
		}
	}
}

// cut forgets the rows before from.
func (r *rows) cut(from int64) {
	if from <= r.from {
		return
	}
	for at := range r.at {
		if at < from {
			delete(r.at, at)
		}
	}
	r.from = from
	r.newest = max(r.newest, from)
}

// ForgetAll drops what the cache, and this transaction's loads, know (the
// store was restored); the rows the transaction wrote stay, as in
// ForgetMarket.
func (t *Tx) ForgetAll() {
	if t.c != nil {
		clear(t.c.series)
		clear(t.loaded)
	}
}
