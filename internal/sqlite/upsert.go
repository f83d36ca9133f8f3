package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/bincache"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// Batching: stored rows are read with one query per market and interval
// (open times in chunks), and changed rows written with multi-row INSERTs.
// Per-row statements cost about 19 µs a row through database/sql; batched
// ones a few µs (docs/benchmarks.md).
const readChunk = 500 // open times per SELECT … IN (…)

// writeSizes are the rows of the prepared multi-row INSERTs, largest
// first (rowParams, 14, a row: far below SQLite's 32766 parameters): a write takes
// the largest that fits what is left, so 45 rows are 4 statements, not 45.
var writeSizes = [...]int{64, 16, 4, 1}

var pointSQL = `SELECT ` + cols + ` FROM candles WHERE venue=? AND symbol=? AND interval=? AND open_time=?`

// upsertSQL writes n rows.
func upsertSQL(n int) string {
	return `INSERT INTO bins (` + binCols + `) VALUES ` + tuples(n) + upsertTail
}

// binCols are the columns of the bins table, written in this order, one
// parameter each.
const binCols = `series, open_time, open, high, low, close, volume, quote, trades, state, rev, source, updated_at, seq`

var rowParams = strings.Count(binCols, ",") + 1

const upsertTail = ` ON CONFLICT (series, open_time) DO UPDATE SET open=excluded.open, high=excluded.high,
	low=excluded.low, close=excluded.close, volume=excluded.volume, quote=excluded.quote, trades=excluded.trades,
	state=excluded.state, rev=excluded.rev, source=excluded.source, updated_at=excluded.updated_at, seq=excluded.seq`

func tuples(n int) string {
	row := "(" + strings.Repeat("?,", rowParams-1) + "?)"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// Upsert implements store.Store: one transaction; every row is merged
// against the stored one (store.Apply), and only changed rows are written.
func (s *Store) Upsert(ctx context.Context, cs []market.Candle) (store.Result, error) {
	r, _, err := s.Write(ctx, cs, nil)
	return r, err
}

// Write implements store.Store: the batch, then the rows derive returns
// for its changes, merged and written in one transaction.
func (s *Store) Write(ctx context.Context, cs []market.Candle, derive store.Derive) (res, derived store.Result, err error) {
	if s.shared {
		return res, derived, errShared
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, derived, fmt.Errorf("upsert %d candles: begin: %w", len(cs), err)
	}
	defer func() {
		if err != nil {
			tx.Rollback() //nolint:errcheck // the write error is what matters
		}
	}()
	seq, now := s.seq, s.now()
	wt := &writeTx{tx: tx, s: s}
	wt.bins = s.bins.Begin(wt.loadSeries)
	if res, err = wt.merge(ctx, cs, now, &seq); err != nil {
		return store.Result{}, store.Result{}, fmt.Errorf("upsert %d candles: %w", len(cs), err)
	}
	if derive != nil {
		more, err := derive(ctx, txReader{wt}, res.Changed)
		if err != nil {
			return store.Result{}, store.Result{}, fmt.Errorf("derive from %d changed candles: %w", len(res.Changed), err)
		}
		if derived, err = wt.merge(ctx, more, now, &seq); err != nil {
			return store.Result{}, store.Result{}, fmt.Errorf("upsert %d derived candles: %w", len(more), err)
		}
	}
	if err = tx.Commit(); err != nil {
		return store.Result{}, store.Result{}, fmt.Errorf("upsert %d candles: commit: %w", len(cs), err)
	}
	wt.bins.Commit()
	wt.keepIDs()
	s.seq = seq
	s.committed.Store(seq)
	return res, derived, nil
}

// writeTx is a write transaction and the store's prepared statements bound
// to it: compiling a statement in every transaction costs more than running
// it (modernc's SQLite compiles in Go).
type writeTx struct {
	tx    *sql.Tx
	s     *Store
	bound map[*sql.Stmt]*sql.Stmt
	bins  *bincache.Tx // the store's recent bins: merges and rollups read them, not the file
	// newIDs are the series numbers this transaction gave (keepIDs).
	newIDs map[market.Series]int64
}

// loadSeries reads a series' rows from from on, at most limit, for the bin
// cache.
func (w *writeTx) loadSeries(ctx context.Context, m market.Market, iv market.Interval, from int64, limit int) ([]market.Candle, error) {
	rows, err := w.stmt(ctx, w.s.rangeQ).QueryContext(ctx, m.Venue, m.Symbol, string(iv), from, int64(math.MaxInt64), limit)
	if err != nil {
		return nil, fmt.Errorf("read %s %s candles from %d: %w", m, iv, from, err)
	}
	return collect(rows, m, iv)
}

// stmt is the store's prepared statement st, bound to the transaction.
func (w *writeTx) stmt(ctx context.Context, st *sql.Stmt) *sql.Stmt {
	if b, ok := w.bound[st]; ok {
		return b
	}
	if w.bound == nil {
		w.bound = map[*sql.Stmt]*sql.Stmt{}
	}
	b := w.tx.StmtContext(ctx, st) // closed with the transaction
	w.bound[st] = b
	return b
}

// merge merges cs against the stored rows (store.Apply) and writes the
// changed ones, numbering them after *seq.
func (w *writeTx) merge(ctx context.Context, cs []market.Candle, now time.Time, seq *int64) (store.Result, error) {
	have, err := w.stored(ctx, cs)
	if err != nil {
		return store.Result{}, fmt.Errorf("read stored rows: %w", err)
	}
	var pw pendingWrites
	get := func(k market.Key) (*market.Candle, error) { return have[k], nil }
	put := func(c market.Candle) error {
		have[c.Key()] = &c // a later row of the same bin merges with this one
		pw.add(c)
		return nil
	}
	r, err := store.Apply(cs, now, seq, get, put)
	if err != nil {
		return store.Result{}, err
	}
	if err = pw.write(ctx, w); err != nil {
		return store.Result{}, fmt.Errorf("write: %w", err)
	}
	return r, nil
}

// txReader reads candles inside a write transaction (store.Reader), so a
// derive sees the batch's own rows.
type txReader struct{ w *writeTx }

func (r txReader) Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	if cs, known, err := r.w.bins.Range(ctx, m, iv, from, to); known || err != nil {
		return cs, err
	}
	rows, err := r.w.stmt(ctx, r.w.s.rangeQ).QueryContext(ctx, m.Venue, m.Symbol, string(iv), from, to, -1)
	if err != nil {
		return nil, fmt.Errorf("read %s %s candles: %w", m, iv, err)
	}
	return collect(rows, m, iv)
}

// series is one market's interval.
type series struct {
	m  market.Market
	iv market.Interval
}

// stored reads the stored rows of the bins in cs: from the bin cache, and
// what it does not know from the file, a series with few bins in the
// batch by a prepared point lookup per bin, others with IN lists.
func (w *writeTx) stored(ctx context.Context, cs []market.Candle) (map[market.Key]*market.Candle, error) {
	times := map[series][]any{}
	seen := make(map[market.Key]bool, len(cs))
	have := make(map[market.Key]*market.Candle, len(cs))
	for _, c := range cs {
		k := c.Key()
		if seen[k] {
			continue
		}
		seen[k] = true
		if got, known, err := w.bins.Get(ctx, k); err != nil {
			return nil, err
		} else if known {
			if got != nil {
				have[k] = got
			}
			continue
		}
		sr := series{c.Market, c.Interval}
		times[sr] = append(times[sr], c.OpenTime)
	}
	for sr, ts := range times {
		if len(ts) <= pointLookups {
			if err := readPoints(ctx, w.stmt(ctx, w.s.pointQ), have, sr, ts); err != nil {
				return nil, err
			}
			continue
		}
		for i := 0; i < len(ts); i += readChunk {
			chunk := ts[i:min(i+readChunk, len(ts))]
			args := append([]any{sr.m.Venue, sr.m.Symbol, string(sr.iv)}, chunk...)
			if err := readInto(ctx, w.tx, have, inSQL(len(chunk)), args); err != nil {
				return nil, err
			}
		}
	}
	return have, nil
}

// inSQL reads n bins of one series by open time.
func inSQL(n int) string {
	return `SELECT ` + cols + ` FROM candles WHERE venue=? AND symbol=? AND interval=? AND open_time IN (?` +
		strings.Repeat(",?", n-1) + `)`
}

// pointLookups is the most bins of one series read one by one: below it a
// prepared lookup beats compiling an IN query.
const pointLookups = 4

func readPoints(ctx context.Context, one *sql.Stmt, have map[market.Key]*market.Candle, sr series, ts []any) error {
	for _, t := range ts {
		c, err := scanCandle(one.QueryRowContext(ctx, sr.m.Venue, sr.m.Symbol, string(sr.iv), t))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			have[c.Key()] = c
		}
	}
	return nil
}

func readInto(ctx context.Context, tx *sql.Tx, have map[market.Key]*market.Candle, q string, args []any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCandle(rows)
		if err != nil {
			return err
		}
		have[c.Key()] = c
	}
	return rows.Err()
}

// pendingWrites are the changed rows of a batch, one per bin (the last
// version), in the order first seen.
type pendingWrites struct {
	rows []market.Candle
	at   map[market.Key]int
}

func (w *pendingWrites) add(c market.Candle) {
	if w.at == nil {
		w.at = map[market.Key]int{}
	}
	if i, ok := w.at[c.Key()]; ok {
		w.rows[i] = c
		return
	}
	w.at[c.Key()] = len(w.rows)
	w.rows = append(w.rows, c)
}

// write stores the rows with the prepared INSERTs, each time the largest
// of writeSizes that fits the rows left.
func (pw *pendingWrites) write(ctx context.Context, w *writeTx) error {
	args := make([]any, 0, rowParams*writeSizes[0])
	for i := 0; i < len(pw.rows); {
		k := 0
		for writeSizes[k] > len(pw.rows)-i {
			k++
		}
		n, q := writeSizes[k], w.s.upserts[k]
		args = args[:0]
		for _, c := range pw.rows[i : i+n] {
			id, err := w.seriesID(ctx, market.SeriesOf(c))
			if err != nil {
				return err
			}
			args = append(args, id, c.OpenTime,
				c.Open.String(), c.High.String(), c.Low.String(), c.Close.String(), c.Volume.String(), c.Quote.String(),
				c.Trades, int(c.State), c.Rev, string(c.Source), c.Updated, c.Seq)
		}
		if _, err := w.stmt(ctx, q).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("write %d rows: %w", n, err)
		}
		i += n
	}
	w.bins.Wrote(pw.rows)
	return nil
}

// unrolledSQL finds one series' candles whose bin of the parent interval is
// missing or was last stored before them (a lower sequence number).
var unrolledSQL = `SELECT c.` + strings.ReplaceAll(cols, ", ", ", c.") + ` FROM candles c
	WHERE c.venue=? AND c.symbol=? AND c.interval=? AND c.open_time >= ? AND NOT EXISTS (
		SELECT 1 FROM bins p WHERE p.` + seriesIDWhere + `
		AND p.open_time = c.open_time - (c.open_time % ?) AND p.seq >= c.seq)`

// Unrolled implements store.Store, with one indexed anti-join per interval
// and parent.
func (s *Store) Unrolled(ctx context.Context, m market.Market, from int64) ([]market.Candle, error) {
	return store.ByParent(func(iv, p market.Interval) ([]market.Candle, error) {
		rows, err := s.db.QueryContext(ctx, unrolledSQL, m.Venue, m.Symbol, string(iv), from, m.Venue, m.Symbol, string(p), p.Millis())
		if err != nil {
			return nil, fmt.Errorf("find %s %s candles newer than their %s rollup: %w", m, iv, p, err)
		}
		return collect(rows, m, iv)
	})
}
