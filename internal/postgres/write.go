package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candlewire/candlewire/internal/bincache"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// ErrLostGuard is a write whose guarded upsert refused a row: another
// writer changed it without the head lock, or the retention deleted the
// bin between the read and the write. The transaction is rolled back,
// nothing of the batch is stored, and the writer retries it.
var ErrLostGuard = errors.New("a stored revision moved under the write")

// errSeriesGone is a write of new bins whose series is not stored: the
// store was restored from before it was added. The store forgets the
// series it knew, and the writer's retry adds it again.
var errSeriesGone = errors.New("a series the write names is not stored (restored from an older copy?)")

// Upsert implements store.Store.
func (s *Store) Upsert(ctx context.Context, cs []market.Candle) (store.Result, error) {
	r, _, err := s.Write(ctx, cs, nil)
	return r, err
}

// Write implements store.Store: under the head lock, the batch and then
// the rows derive returns for its changes are merged and written, and the
// head moves past their sequence numbers, in one transaction.
func (s *Store) Write(ctx context.Context, cs []market.Candle, derive store.Derive) (res, derived store.Result, err error) {
	now := s.now()
	if s.recent != nil {
		s.recent.mu.Lock() // the cache is one write's at a time
		defer s.recent.mu.Unlock()
	}
	err = s.locked(ctx, now, s.recent, func(b *batch) error {
		var err error
		if res, err = b.merge(ctx, cs, now); err != nil {
			return err
		}
		if derive == nil {
			return nil
		}
		if b.held && b.view != nil { // the rollups read the rows of the changed markets from the cache
			if _, err := b.trust(ctx, marketsOf(res.Changed)); err != nil {
				return err
			}
		}
		more, err := derive(ctx, &cachedWindows{b: b, changed: res.Changed}, res.Changed)
		if err != nil {
			return fmt.Errorf("derive from %d changed candles: %w", len(res.Changed), err)
		}
		if derived, err = b.merge(ctx, more, now); err != nil {
			return fmt.Errorf("derived: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Result{}, store.Result{}, fmt.Errorf("upsert %d candles: %w", len(cs), err)
	}
	return res, derived, nil
}

// batch is one write transaction: once it holds the head lock, it
// numbers the rows it changes after seq (start when it took the lock),
// counts the new bins in added, and names the series it added.
type batch struct {
	tx       pgx.Tx
	held     bool
	start    int64
	stamp    stamp // the head's when it took the lock
	seq      int64
	added    int
	series   []market.Series
	known    *seriesSet
	analyze  bool          // the rows grew enough for an ANALYZE
	readBack *atomic.Int64 // the store's count of stored rows writes read

	// The writer's cache of stored rows (recent), when the batch uses it:
	// its view, the markets whose cached rows it checked under the lock,
	// and those it checked without it (at which head).
	recent     *recent
	view       *bincache.Tx
	trusted    map[market.Market]bool
	unlockedAt map[market.Market]int64
}

// locked runs body in one transaction, which takes the head lock (every
// writer's, see the package doc) before it writes. The head then moves
// past the numbers body gave (marked at now's minute), and after the
// commit the planner's statistics hear of the new bins. With a cache of
// recent rows (r, held by the caller), the batch merges against it.
func (s *Store) locked(ctx context.Context, now time.Time, r *recent, body func(b *batch) error) error {
	b := &batch{known: &s.known, recent: r, readBack: &s.readBack}
	if r != nil {
		r.begin(b)
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error { // each statement its snapshot
		b.tx = tx
		if err := body(b); err != nil || !b.held || b.seq == b.start {
			return err
		}
		return b.moveHead(ctx, now)
	})
	if r != nil {
		r.done(b, err == nil, b.seq)
	}
	if err != nil {
		s.known.forget() // a restore may have taken series away
		return err
	}
	s.known.add(b.series)
	if b.analyze {
		s.stats.run(s)
	}
	return nil
}

// lock takes the head lock, unless the batch holds it.
func (b *batch) lock(ctx context.Context) error {
	if b.held {
		return nil
	}
	if err := b.tx.QueryRow(ctx, `SELECT seq, cut, epoch FROM candle_head WHERE id = 1 FOR UPDATE`).Scan(
		&b.seq, &b.stamp.cut, &b.stamp.epoch); err != nil {
		return fmt.Errorf("lock the head: %w", err)
	}
	b.start, b.held = b.seq, true
	return nil
}

// epochShift is store.EpochShift in SQL.
var epochShift = strconv.Itoa(store.EpochShift)

// moveHead sets the head to b.seq, marks it as the head at now's minute
// (the retention's floor is read from these marks) and counts the new
// rows towards the next ANALYZE, which b.analyze says is due. A head that
// outgrows its epoch's 2^40 numbers (years of changes) moves the store to
// the epoch its numbers now carry, so that cursors stay judged by them.
func (b *batch) moveHead(ctx context.Context, now time.Time) error {
	var grown, analyzed int64
	err := b.tx.QueryRow(ctx, `WITH h AS (UPDATE candle_head SET seq = $1::bigint, grown = grown + $3,
				epoch = greatest(epoch, ($1::bigint >> `+epochShift+`)::int) WHERE id = 1
			RETURNING grown, analyzed),
		m AS (INSERT INTO head_marks (minute, seq) VALUES ($2, $1) ON CONFLICT (minute) DO UPDATE SET seq = excluded.seq)
		SELECT grown, analyzed FROM h`,
		b.seq, now.Truncate(time.Minute).UnixMilli(), b.added).Scan(&grown, &analyzed)
	if err != nil {
		return fmt.Errorf("move the head: %w", err)
	}
	if b.analyze = due(grown, analyzed); b.analyze {
		if _, err := b.tx.Exec(ctx, `UPDATE candle_head SET analyzed = analyzed + grown, grown = 0 WHERE id = 1`); err != nil {
			return fmt.Errorf("count the rows to analyse: %w", err)
		}
	}
	return nil
}

// merge merges cs against the stored rows (store.Apply) and writes the
// changed ones, numbering them after b.seq and counting new bins. The
// first merge of a batch whose series are all stored reads and merges
// before it takes the head lock (ahead), so that another writer's write
// runs meanwhile; the lock is then held only to write.
func (b *batch) merge(ctx context.Context, cs []market.Candle, now time.Time) (store.Result, error) {
	if len(cs) == 0 {
		return store.Result{Changed: []market.Candle{}}, nil
	}
	if r, done, err := b.cached(ctx, cs, now); done || err != nil {
		return r, err
	}
	if !b.held && b.known.hasAll(cs) {
		if r, done, err := b.ahead(ctx, cs, now); done || err != nil {
			return r, err
		}
	}
	if err := b.lock(ctx); err != nil {
		return store.Result{}, err
	}
	have, err := b.stored(ctx, cs)
	if err != nil {
		return store.Result{}, err
	}
	r, pw, added, err := plan(cs, have, now, &b.seq)
	if err != nil {
		return store.Result{}, err
	}
	b.added += added
	b.wrote(pw)
	return r, pw.write(ctx, b.tx)
}

// wrote tells the batch's cache view, if any, of the rows it writes.
func (b *batch) wrote(pw *pending) {
	if b.view != nil {
		b.view.Wrote(pw.rows)
	}
}

// ahead merges cs against the rows stored when the head was at some h,
// then takes the head lock. When no row of cs's series was stored after h
// (none has a higher sequence number), the merge stands: its rows are
// numbered from the head and written. Otherwise done is false, and the
// caller merges again under the lock. A batch that changes nothing takes
// no lock.
func (b *batch) ahead(ctx context.Context, cs []market.Candle, now time.Time) (r store.Result, done bool, err error) {
	h, have, err := b.readAhead(ctx, cs)
	if err != nil {
		return r, false, err
	}
	return b.settle(ctx, cs, now, h, have)
}

// settle is ahead after the read: it merges cs against have, stored when
// the head was at h, and writes the merge unless cs's series moved since.
func (b *batch) settle(ctx context.Context, cs []market.Candle, now time.Time, h int64, have map[market.Key]*market.Candle) (
	r store.Result, done bool, err error) {
	var n int64
	r, pw, added, err := plan(cs, have, now, &n)
	if err != nil || n == 0 {
		return r, err == nil, err
	}
	if err := b.lock(ctx); err != nil {
		return r, false, err
	}
	if b.seq != h {
		if moved, err := b.movedSince(ctx, cs, h); err != nil || moved {
			return store.Result{}, false, err
		}
	}
	renumber(r, pw, b.seq)
	b.seq += n
	b.added += added
	b.wrote(pw)
	return r, true, pw.write(ctx, b.tx)
}

// plan merges cs against have, numbering the changed rows after *seq; it
// returns the rows to write and how many of them are new bins.
func plan(cs []market.Candle, have map[market.Key]*market.Candle, now time.Time, seq *int64) (store.Result, *pending, int, error) {
	pw, added := newPending(len(cs)), 0
	get := func(k market.Key) (*market.Candle, error) { return have[k], nil }
	put := func(c market.Candle) error {
		k := c.Key()
		if have[k] == nil {
			added++
		}
		have[k] = pw.add(c, have[k] == nil) // a later row of the same bin merges with this one
		return nil
	}
	r, err := store.Apply(cs, now, seq, get, put)
	return r, pw, added, err
}

// storedSQL reads the stored rows of the bins given as column arrays.
const storedSQL = `SELECT ` + cols + `
	FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])) AS k(v, s, i, t)
	JOIN series sr ON sr.venue = k.v AND sr.symbol = k.s AND sr.interval = k.i
	JOIN candles c ON c.series = sr.id AND c.open_time = k.t`

// keys are the bins of cs as column arrays (storedSQL's).
func keys(cs []market.Candle) []any {
	n := len(cs)
	vs, ss, is, ts := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]int64, 0, n)
	for _, c := range cs {
		vs, ss, is, ts = append(vs, c.Market.Venue), append(ss, c.Market.Symbol), append(is, string(c.Interval)), append(ts, c.OpenTime)
	}
	return []any{vs, ss, is, ts}
}

// stored reads the stored rows of the bins in cs, in one statement, after
// adding the series cs name that the store may not have.
func (b *batch) stored(ctx context.Context, cs []market.Candle) (map[market.Key]*market.Candle, error) {
	if err := b.ensure(ctx, cs); err != nil {
		return nil, err
	}
	rows, err := collect(ctx, b.tx, "stored rows", storedSQL, keys(cs)...)
	if err != nil {
		return nil, err
	}
	b.readBack.Add(int64(len(rows)))
	return byKey(rows), nil
}

// readAhead reads the head h and then, in a later statement of the same
// round trip, the stored rows of the bins in cs: every row stored after h
// has a higher sequence number, and every one stored before is read.
func (b *batch) readAhead(ctx context.Context, cs []market.Candle) (h int64, have map[market.Key]*market.Candle, err error) {
	var q pgx.Batch
	q.Queue(`SELECT seq FROM candle_head WHERE id = 1`).QueryRow(func(row pgx.Row) error { return row.Scan(&h) })
	q.Queue(storedSQL, keys(cs)...).Query(func(rows pgx.Rows) error {
		got, err := collectRows(rows)
		have = byKey(got)
		b.readBack.Add(int64(len(got)))
		return err
	})
	if err := b.tx.SendBatch(ctx, &q).Close(); err != nil {
		return 0, nil, fmt.Errorf("read the head and the stored rows: %w", err)
	}
	return h, have, nil
}

// movedSince reports whether a row of cs's series was stored after
// sequence number h.
func (b *batch) movedSince(ctx context.Context, cs []market.Candle, h int64) (bool, error) {
	k := keys(cs)
	var moved bool
	err := b.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1
		FROM (SELECT DISTINCT v, s, i FROM unnest($1::text[], $2::text[], $3::text[]) AS k(v, s, i)) AS k
		JOIN series sr ON sr.venue = k.v AND sr.symbol = k.s AND sr.interval = k.i
		JOIN candles c ON c.series = sr.id AND c.seq > $4)`, k[0], k[1], k[2], h).Scan(&moved)
	if err != nil {
		return false, fmt.Errorf("look for rows stored since %d: %w", h, err)
	}
	return moved, nil
}

func byKey(rows []market.Candle) map[market.Key]*market.Candle {
	have := make(map[market.Key]*market.Candle, len(rows))
	for i := range rows {
		have[rows[i].Key()] = &rows[i]
	}
	return have
}
