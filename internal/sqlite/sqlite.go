package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a store.Store backed by one SQLite file.
type Store struct {
	db     *sql.DB
	now    func() time.Time
	wmu    sync.Mutex // one writer at a time; readers run concurrently (WAL)
	seq    int64      // newest sequence number, under wmu
	rangeQ *sql.Stmt  // the range read, prepared once: compiling it costs more than running it
	sinceQ *sql.Stmt
	lock   *os.File // holds the writer lock; nil for OpenShared
}

var _ store.Store = (*Store)(nil)

// ErrInUse is returned by Open when another process writes the database.
var ErrInUse = errors.New("in use by another candlewire process (run, watch --db or backfill): one process writes a SQLite file; stop the other one, or share a store through PostgreSQL")

// Open opens (creating if needed) the database at path for writing and
// migrates it. It takes the file's writer lock, held until Close: a second
// writer of the same file, in this process or another, gets ErrInUse.
// now stamps update times; nil means time.Now.
func Open(ctx context.Context, path string, now func() time.Time) (*Store, error) {
	lock, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", pathError(err))
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	s, err := open(ctx, path, now)
	if err != nil {
		lock.Close() // after SQLite's own handles: closing it drops this process's fcntl locks on the file
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// OpenShared opens an existing database to read beside its writer, without
// the writer lock (export). It must not be written through.
func OpenShared(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", pathError(err))
	}
	return open(ctx, path, nil)
}

// pathError adds to a missing file's error which directory is missing.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist) {
		if dir := filepath.Dir(pe.Path); dir != "." {
			if _, derr := os.Stat(dir); derr != nil {
				return fmt.Errorf("%w (directory %s does not exist)", err, dir)
			}
		}
	}
	return err
}

func open(ctx context.Context, path string, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate sqlite %s: %w", path, err)
	}
	s := &Store{db: db, now: now}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return s, nil
}

// prepare reads the newest sequence number and prepares the hot reads.
func (s *Store) prepare(ctx context.Context) error {
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM candles`).Scan(&s.seq); err != nil {
		return fmt.Errorf("read sequence: %w", err)
	}
	var err error
	if s.rangeQ, err = s.db.PrepareContext(ctx, rangeSQL); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if s.sinceQ, err = s.db.PrepareContext(ctx, sinceSQL); err != nil {
		s.rangeQ.Close()
		return fmt.Errorf("prepare: %w", err)
	}
	return nil
}

// Close implements store.Store. The writer lock goes last, after SQLite's
// own file handles.
func (s *Store) Close() error {
	err := errors.Join(s.rangeQ.Close(), s.sinceQ.Close(), s.db.Close())
	if s.lock != nil {
		err = errors.Join(err, s.lock.Close())
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
	head, _ := s.Head(ctx)
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

// Before implements store.Store.
func (s *Store) Before(ctx context.Context, m market.Market, iv market.Interval, to int64, n int) ([]market.Candle, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT * FROM (SELECT `+cols+` FROM candles WHERE venue=? AND symbol=? AND interval=?
		AND open_time < ? ORDER BY open_time DESC LIMIT ?) ORDER BY open_time`, m.Venue, m.Symbol, string(iv), to, n)
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
func (s *Store) Head(context.Context) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.seq, nil
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

// LastReconciled implements store.Store.
func (s *Store) LastReconciled(ctx context.Context, m market.Market, iv market.Interval) (int64, bool, error) {
	var t sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(open_time) FROM candles WHERE venue=? AND symbol=? AND interval=? AND state=?`,
		m.Venue, m.Symbol, string(iv), int(market.Reconciled)).Scan(&t)
	if err != nil {
		return 0, false, fmt.Errorf("read last reconciled %s %s: %w", m, iv, err)
	}
	return t.Int64, t.Valid, nil
}
