package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
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
	rangeQ *sql.Stmt  // the range read, prepared once: compiling it costs more than running it
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and migrates it.
// now stamps update times; nil means time.Now.
func Open(ctx context.Context, path string, now func() time.Time) (*Store, error) {
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
	rng, err := db.PrepareContext(ctx, rangeSQL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: prepare: %w", path, err)
	}
	return &Store{db: db, now: now, rangeQ: rng}, nil
}

// Close implements store.Store.
func (s *Store) Close() error { return errors.Join(s.rangeQ.Close(), s.db.Close()) }

const cols = `venue, symbol, interval, open_time, open, high, low, close, volume, quote, trades, state, rev, source, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanCandle(row scanner) (*market.Candle, error) {
	var c market.Candle
	var iv, src string
	var o, h, l, cl, v, q string
	var st int
	if err := row.Scan(&c.Market.Venue, &c.Market.Symbol, &iv, &c.OpenTime, &o, &h, &l, &cl, &v, &q,
		&c.Trades, &st, &c.Rev, &src, &c.Updated); err != nil {
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

// query reads [from, to) oldest first; limit < 0 means no limit.
func (s *Store) query(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
	rows, err := s.rangeQ.QueryContext(ctx, m.Venue, m.Symbol, string(iv), from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s %s candles: %w", m, iv, err)
	}
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
