package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candlewire/candlewire/internal/bincache"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a store.Store backed by one SQLite file.
type Store struct {
	db  *sql.DB
	now func() time.Time
	wmu sync.Mutex // one writer at a time; readers run concurrently (WAL)
	seq int64      // newest sequence number, under wmu
	// Statements prepared once: compiling one costs more than running it.
	rangeQ, sinceQ, pointQ *sql.Stmt
	upserts                [len(writeSizes)]*sql.Stmt // one of writeSizes rows each
	lock                   *os.File                   // holds the writer lock; nil for OpenShared
	// committed is seq once its transaction has committed: readers bound
	// their reads by it without waiting for the writer's lock.
	committed atomic.Int64
	shared    bool  // opened by OpenShared: read-only, and another process writes
	epoch     int64 // the change log's (meta.epoch)
	// bins are the recent bins as stored, under wmu: this store is the
	// file's only writer (the lock), so they cannot drift from the file.
	bins *bincache.Cache
	ids  map[market.Series]int64 // series numbers (series.go), under wmu
}

var _ store.Store = (*Store)(nil)

// prepare reads the newest sequence number and prepares the hot
// statements (the writes only when this store writes).
func (s *Store) prepare(ctx context.Context) error {
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM bins`).Scan(&s.seq); err != nil {
		return fmt.Errorf("read sequence: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT epoch FROM meta), 0)`).Scan(&s.epoch); err != nil {
		return fmt.Errorf("read the epoch: %w", err)
	}
	s.seq = max(s.seq, s.epoch<<store.EpochShift)
	s.committed.Store(s.seq)
	want := []struct {
		to  **sql.Stmt
		sql string
	}{{&s.rangeQ, rangeSQL}, {&s.sinceQ, sinceSQL}, {&s.pointQ, pointSQL}}
	if !s.shared {
		for i, n := range writeSizes {
			want = append(want, struct {
				to  **sql.Stmt
				sql string
			}{&s.upserts[i], upsertSQL(n)})
		}
	}
	for _, w := range want {
		st, err := s.db.PrepareContext(ctx, w.sql)
		if err != nil {
			s.closeStmts()
			return fmt.Errorf("prepare: %w", err)
		}
		*w.to = st
	}
	return nil
}

func (s *Store) closeStmts() error {
	var err error
	for _, st := range append([]*sql.Stmt{s.rangeQ, s.sinceQ, s.pointQ}, s.upserts[:]...) {
		if st != nil {
			err = errors.Join(err, st.Close())
		}
	}
	return err
}

// Close implements store.Store. The writer lock goes last, after SQLite's
// own file handles.
func (s *Store) Close() error {
	err := errors.Join(s.closeStmts(), s.db.Close())
	if s.lock != nil {
		err = errors.Join(err, release(s.lock))
	}
	return err
}

const cols = `venue, symbol, interval, open_time, open, high, low, close, volume, quote, trades, state, rev, source, updated_at, seq`

type scanner interface{ Scan(dest ...any) error }

func scanCandle(row scanner) (*market.Candle, error) {
	var c market.Candle
	var iv, src string
	var o, h, l, cl, v, q string
	var st int
	if err := row.Scan(&c.Market.Venue, &c.Market.Symbol, &iv, &c.OpenTime, &o, &h, &l, &cl, &v, &q,
		&c.Trades, &st, &c.Rev, &src, &c.Updated, &c.Seq); err != nil {
		return nil, err
	}
	c.Interval, c.State, c.Source = market.Interval(iv), market.State(st), market.Source(src)
	for _, f := range []struct {
		dst *market.Decimal
		s   string
	}{{&c.Open, o}, {&c.High, h}, {&c.Low, l}, {&c.Close, cl}, {&c.Volume, v}, {&c.Quote, q}} {
		d, err := market.ParseDecimal(f.s)
		if err != nil {
			return nil, fmt.Errorf("stored candle %s %s %d: %w", c.Market, iv, c.OpenTime, err)
		}
		*f.dst = d
	}
	return &c, nil
}

// Candles implements store.Store.
func (s *Store) Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	return s.query(ctx, m, iv, from, to, -1)
}

// Page implements store.Store.
func (s *Store) Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
	return s.query(ctx, m, iv, from, to, limit)
}

const rangeSQL = `SELECT ` + cols + ` FROM candles WHERE venue=? AND symbol=? AND interval=?
	AND open_time >= ? AND open_time < ? ORDER BY open_time LIMIT ?`

const sinceSQL = `SELECT ` + cols + ` FROM candles WHERE venue=? AND symbol=? AND interval=? AND seq > ? AND seq <= ?
	ORDER BY seq LIMIT ?`

// Since implements store.Store. Each series is read with its index, then
// the rows are merged in sequence order. Every query is bounded by the
// head read first: the queries are separate snapshots, and a change
// committed between two of them must not be seen for one series and
// missed for another, or the cursor would pass the one missed.
func (s *Store) Since(ctx context.Context, series []market.Series, after int64, limit int) ([]market.Candle, error) {
	head, err := s.readHead(ctx)
	if err != nil {
		return nil, err
	}
	var out []market.Candle
	for _, sr := range series {
		rows, err := s.sinceQ.QueryContext(ctx, sr.Market.Venue, sr.Market.Symbol, string(sr.Interval), after, head, limit)
		if err != nil {
			return nil, fmt.Errorf("read %s changes after %d: %w", sr, after, err)
		}
		cs, err := collect(rows, sr.Market, sr.Interval)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.Seq, b.Seq) })
	return out[:min(len(out), limit)], nil
}

// Latest implements store.Store.
func (s *Store) Latest(ctx context.Context, m market.Market, iv market.Interval, n int) ([]market.Candle, error) {
	return s.Before(ctx, m, iv, math.MaxInt64, n)
}

// beforeSQL reads a series' newest n bins before a time, oldest first.
const beforeSQL = `SELECT * FROM (SELECT ` + cols + ` FROM candles WHERE venue=? AND symbol=? AND interval=?
	AND open_time < ? ORDER BY open_time DESC LIMIT ?) ORDER BY open_time`

// Before implements store.Store.
func (s *Store) Before(ctx context.Context, m market.Market, iv market.Interval, to int64, n int) ([]market.Candle, error) {
	rows, err := s.db.QueryContext(ctx, beforeSQL, m.Venue, m.Symbol, string(iv), to, n)
	if err != nil {
		return nil, fmt.Errorf("read the newest %s %s before %d: %w", m, iv, to, err)
	}
	return collect(rows, m, iv)
}

// Head implements store.Store. It takes the writer's lock, so every change
// it covers is visible to readers and none after it is: a cursor taken from
// it never passes a change a client has not seen, nor falls behind one it
// has (an atomic read after the commit was tried: the cursor could fall
// behind rows already visible, and clients received them twice).
func (s *Store) Head(ctx context.Context) (int64, error) {
	if s.shared {
		return s.readHead(ctx)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.seq, nil
}

// Epoch implements store.Store.
func (s *Store) Epoch() int64 { return s.epoch }

// ClaimOrigin records where the database's candles come from (for
// instance "sim" or "live") unless it has candles of an origin already,
// and returns the origin it has.
func (s *Store) ClaimOrigin(ctx context.Context, origin string) (string, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE meta SET origin = ? WHERE origin = '' OR NOT EXISTS (SELECT 1 FROM candles)`, origin); err != nil {
		return "", fmt.Errorf("record the candles' origin: %w", err)
	}
	return s.Origin(ctx)
}

// Origin is where the database's candles come from ("" before a claim).
func (s *Store) Origin(ctx context.Context) (string, error) {
	var o string
	if err := s.db.QueryRowContext(ctx, `SELECT origin FROM meta`).Scan(&o); err != nil {
		return "", fmt.Errorf("read the candles' origin: %w", err)
	}
	return o, nil
}

// Window implements store.Store: a SQLite store keeps every change.
func (s *Store) Window(ctx context.Context) (floor, head int64, err error) {
	head, err = s.readHead(ctx)
	return 0, head, err
}

// readHead is the newest committed sequence number: this process's
// writer's, or, for a shared store, the database's.
func (s *Store) readHead(ctx context.Context) (int64, error) {
	if !s.shared {
		return s.committed.Load(), nil
	}
	var head int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM bins`).Scan(&head); err != nil {
		return 0, fmt.Errorf("read the newest sequence number: %w", err)
	}
	return max(head, s.epoch<<store.EpochShift), nil
}

// query reads [from, to) oldest first; limit < 0 means no limit.
func (s *Store) query(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
	rows, err := s.rangeQ.QueryContext(ctx, m.Venue, m.Symbol, string(iv), from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s %s candles: %w", m, iv, err)
	}
	return collect(rows, m, iv)
}

// collect reads and closes rows of candles.
func collect(rows *sql.Rows, m market.Market, iv market.Interval) ([]market.Candle, error) {
	defer rows.Close()
	var out []market.Candle
	for rows.Next() {
		c, err := scanCandle(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s %s candles: %w", m, iv, err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s %s candles: %w", m, iv, err)
	}
	return out, nil
}

// lastReconciledSQL reads a series' newest reconciled bin, with
// market.Reconciled written into the statement so that the planner uses
// the index of reconciled bins (bins_final).
var lastReconciledSQL = `SELECT MAX(open_time) FROM bins WHERE ` + seriesIDWhere + ` AND state=` +
	strconv.Itoa(int(market.Reconciled))

// LastReconciled implements store.Store.
func (s *Store) LastReconciled(ctx context.Context, m market.Market, iv market.Interval) (int64, bool, error) {
	var t sql.NullInt64
	err := s.db.QueryRowContext(ctx, lastReconciledSQL, m.Venue, m.Symbol, string(iv)).Scan(&t)
	if err != nil {
		return 0, false, fmt.Errorf("read last reconciled %s %s: %w", m, iv, err)
	}
	return t.Int64, t.Valid, nil
}
