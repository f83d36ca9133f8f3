package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// Store is a store.Store in a PostgreSQL database, shared by any number of
// processes.
type Store struct {
	pool   *pgxpool.Pool
	now    func() time.Time
	epoch  atomic.Int64 // as last read (Open, Window)
	stats  analyzer
	known  seriesSet // series seen committed, which writes need not add
	recent *recent   // the rows this process last knew stored, which writes merge against
	// readBack counts the stored rows writes read (to merge and to roll
	// up): what the cache of recent rows saves.
	readBack atomic.Int64
	retain   config.Retention
	log      *slog.Logger
}

var _ store.Store = (*Store)(nil)

// Close implements store.Store.
func (s *Store) Close() error {
	s.stats.halt()
	s.stats.wg.Wait()
	s.pool.Close()
	return nil
}

// Epoch implements store.Store: the epoch as last read, when opened or by
// Window (another process may have started a new one since: a restore
// found at its start).
func (s *Store) Epoch() int64 { return s.epoch.Load() }

// ClaimOrigin records where the store's candles come from (for instance
// "sim" or "live") unless it has candles of an origin already, and
// returns the origin it has.
func (s *Store) ClaimOrigin(ctx context.Context, origin string) (string, error) {
	var had string
	err := s.pool.QueryRow(ctx, `UPDATE candle_head SET origin = CASE WHEN origin = '' OR NOT EXISTS (SELECT 1 FROM candles)
		THEN $1 ELSE origin END WHERE id = 1 RETURNING origin`, origin).Scan(&had)
	if err != nil {
		return "", fmt.Errorf("record the candles' origin: %w", err)
	}
	return had, nil
}

// Window implements store.Store; it also reads the epoch, so that Epoch
// after it is the log's current one.
func (s *Store) Window(ctx context.Context) (floor, head int64, err error) {
	var epoch int32
	if err := s.pool.QueryRow(ctx, `SELECT floor, seq, epoch FROM candle_head WHERE id = 1`).Scan(&floor, &head, &epoch); err != nil {
		return 0, 0, fmt.Errorf("read the change log's window: %w", err)
	}
	s.epoch.Store(int64(epoch))
	return floor, head, nil
}

// cols are a candle's columns, decimals as their exact text, from the
// candles c and their series sr.
const cols = `sr.venue, sr.symbol, sr.interval, c.open_time, c.open::text, c.high::text, c.low::text, c.close::text,
	c.volume::text, c.quote::text, c.trades, c.state, c.rev, c.source, c.updated_at, c.seq`

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func scanCandle(row pgx.Row) (market.Candle, error) {
	var c market.Candle
	var iv, src string
	var d [6]string
	var st int16
	if err := row.Scan(&c.Market.Venue, &c.Market.Symbol, &iv, &c.OpenTime, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5],
		&c.Trades, &st, &c.Rev, &src, &c.Updated, &c.Seq); err != nil {
		return c, err
	}
	c.Interval, c.State, c.Source = market.Interval(iv), market.State(st), market.Source(src)
	for i, dst := range []*market.Decimal{&c.Open, &c.High, &c.Low, &c.Close, &c.Volume, &c.Quote} {
		v, err := market.ParseDecimal(d[i])
		if err != nil {
			return c, fmt.Errorf("stored candle %s %s %d: %w", c.Market, iv, c.OpenTime, err)
		}
		*dst = v
	}
	return c, nil
}

// collect reads candles from a query; what says what was read, for errors.
func collect(ctx context.Context, q querier, what string, sql string, args ...any) ([]market.Candle, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	out, err := collectRows(rows)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// collectRows reads candles from rows, and closes them.
func collectRows(rows pgx.Rows) ([]market.Candle, error) {
	defer rows.Close()
	var out []market.Candle
	for rows.Next() {
		c, err := scanCandle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// oneSeries are the candles of the series named $1, $2, $3.
const oneSeries = ` FROM series sr JOIN candles c ON c.series = sr.id WHERE sr.venue=$1 AND sr.symbol=$2 AND sr.interval=$3`

const rangeSQL = `SELECT ` + cols + oneSeries + `
	AND c.open_time >= $4 AND c.open_time < $5 ORDER BY c.open_time LIMIT $6`

// Candles implements store.Store.
func (s *Store) Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	return rangeOf(ctx, s.pool, m, iv, from, to, math.MaxInt64)
}

// Page implements store.Store.
func (s *Store) Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
	return rangeOf(ctx, s.pool, m, iv, from, to, int64(limit))
}

func rangeOf(ctx context.Context, q querier, m market.Market, iv market.Interval, from, to, limit int64) ([]market.Candle, error) {
	return collect(ctx, q, fmt.Sprintf("%s %s candles", m, iv), rangeSQL, m.Venue, m.Symbol, string(iv), from, to, limit)
}

// Since implements store.Store, in one statement (one snapshot): sequence
// numbers become visible in order (see the package doc), so every change
// numbered below the newest one returned is in it or was before it.
func (s *Store) Since(ctx context.Context, series []market.Series, after int64, limit int) ([]market.Candle, error) {
	vs, ss, is := make([]string, len(series)), make([]string, len(series)), make([]string, len(series))
	for i, sr := range series {
		vs[i], ss[i], is[i] = sr.Market.Venue, sr.Market.Symbol, string(sr.Interval)
	}
	return collect(ctx, s.pool, fmt.Sprintf("changes of %d series after %d", len(series), after),
		`SELECT `+cols+` FROM unnest($1::text[], $2::text[], $3::text[]) AS k(v, s, i)
		JOIN series sr ON sr.venue = k.v AND sr.symbol = k.s AND sr.interval = k.i
		CROSS JOIN LATERAL (SELECT * FROM candles p WHERE p.series = sr.id AND p.seq > $4 ORDER BY p.seq LIMIT $5) AS c
		ORDER BY c.seq LIMIT $5`,
		vs, ss, is, after, limit)
}

// Changes returns at most limit candles whose current revision was stored
// after sequence number after, over every series, in sequence order (the
// bus.Log a node's live clients are fed from). Like Since it is one
// statement, so it never passes a number that commits later.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]market.Candle, error) {
	return collect(ctx, s.pool, fmt.Sprintf("changes after %d", after),
		`SELECT `+cols+` FROM candles c JOIN series sr ON sr.id = c.series WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`,
		after, limit)
}

// Latest implements store.Store.
func (s *Store) Latest(ctx context.Context, m market.Market, iv market.Interval, n int) ([]market.Candle, error) {
	return s.Before(ctx, m, iv, math.MaxInt64, n)
}

// Before implements store.Store.
func (s *Store) Before(ctx context.Context, m market.Market, iv market.Interval, to int64, n int) ([]market.Candle, error) {
	return collect(ctx, s.pool, fmt.Sprintf("the newest %s %s before %d", m, iv, to),
		`SELECT * FROM (SELECT `+cols+oneSeries+`
		AND c.open_time < $4 ORDER BY c.open_time DESC LIMIT $5) AS newest ORDER BY open_time`,
		m.Venue, m.Symbol, string(iv), to, n)
}

// Head implements store.Store: the newest committed sequence number.
func (s *Store) Head(ctx context.Context) (int64, error) {
	var head int64
	if err := s.pool.QueryRow(ctx, `SELECT seq FROM candle_head WHERE id = 1`).Scan(&head); err != nil {
		return 0, fmt.Errorf("read the newest sequence number: %w", err)
	}
	return head, nil
}

// lastFinalSQL names the state as a constant, so that the partial index
// of reconciled candles (candles_final) serves it.
var lastFinalSQL = fmt.Sprintf(`SELECT MAX(c.open_time)`+oneSeries+` AND c.state=%d`, market.Reconciled)

// LastReconciled implements store.Store.
func (s *Store) LastReconciled(ctx context.Context, m market.Market, iv market.Interval) (int64, bool, error) {
	var t *int64
	err := s.pool.QueryRow(ctx, lastFinalSQL, m.Venue, m.Symbol, string(iv)).Scan(&t)
	if err != nil {
		return 0, false, fmt.Errorf("read last reconciled %s %s: %w", m, iv, err)
	}
	if t == nil {
		return 0, false, nil
	}
	return *t, true, nil
}

// unrolledSQL finds one series' candles whose bin of the parent interval is
// missing or was last stored before them (a lower sequence number).
const unrolledSQL = `SELECT ` + cols + oneSeries + ` AND c.open_time >= $4 AND NOT EXISTS (
		SELECT 1 FROM series ps JOIN candles p ON p.series = ps.id
		WHERE ps.venue = sr.venue AND ps.symbol = sr.symbol AND ps.interval = $5
		AND p.open_time = c.open_time - (c.open_time % $6) AND p.seq >= c.seq)
	ORDER BY c.open_time`

// Unrolled implements store.Store, with one indexed anti-join per interval
// and parent.
func (s *Store) Unrolled(ctx context.Context, m market.Market, from int64) ([]market.Candle, error) {
	return store.ByParent(func(iv, p market.Interval) ([]market.Candle, error) {
		return collect(ctx, s.pool, fmt.Sprintf("%s %s candles newer than their %s rollup", m, iv, p), unrolledSQL,
			m.Venue, m.Symbol, string(iv), from, string(p), p.Millis())
	})
}
