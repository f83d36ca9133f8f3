package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// storedSeriesSQL lists the numbered series with a stored bin, in order.
const storedSeriesSQL = `SELECT venue, symbol, interval FROM series s
	WHERE EXISTS (SELECT 1 FROM bins WHERE series = s.id) ORDER BY venue, symbol, interval`

// Oldest bins of a series, for retention: the limit-th oldest before a
// time (venue, symbol, interval, before, limit), and a delete of those
// before it (venue, symbol, interval, bound).
const (
	chunkBoundSQL = `SELECT open_time FROM bins WHERE ` + seriesIDWhere + ` AND open_time < ? ORDER BY open_time LIMIT 1 OFFSET ?`
	deleteOldSQL  = `DELETE FROM bins WHERE ` + seriesIDWhere + ` AND open_time < ?`
)

// Series lists every stored market and interval (migrate, retention), in
// order: every numbered series with a stored bin.
func (s *Store) Series(ctx context.Context) ([]market.Series, error) {
	rows, err := s.db.QueryContext(ctx, storedSeriesSQL)
	if err != nil {
		return nil, fmt.Errorf("list stored series: %w", err)
	}
	defer rows.Close()
	var out []market.Series
	for rows.Next() {
		var v, sym, iv string
		if err := rows.Scan(&v, &sym, &iv); err != nil {
			return nil, fmt.Errorf("list stored series: %w", err)
		}
		out = append(out, market.Series{Market: market.Market{Venue: v, Symbol: sym}, Interval: market.Interval(iv)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stored series: %w", err)
	}
	return out, nil
}

// DeleteBefore deletes at most limit bins of sr that opened before
// before, oldest first (retention), under the writer's lock, and forgets
// what the writer's cache knew of sr.
func (s *Store) DeleteBefore(ctx context.Context, sr market.Series, before int64, limit int) (int64, error) {
	if s.shared {
		return 0, errShared
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	key := []any{sr.Market.Venue, sr.Market.Symbol, string(sr.Interval)}
	bound := before // the limit-th oldest bin before it, if there is one, bounds this chunk
	err := s.db.QueryRowContext(ctx, chunkBoundSQL, append(key, before, limit)...).Scan(&bound)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("delete %s before %d: %w", sr, before, err)
	}
	res, err := s.db.ExecContext(ctx, deleteOldSQL, append(key, bound)...)
	if err != nil {
		return 0, fmt.Errorf("delete %s before %d: %w", sr, before, err)
	}
	s.bins.Forget(sr.Market, sr.Interval)
	n, err := res.RowsAffected()
	return n, err
}

// Count is how many candles are stored.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM bins`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count stored candles: %w", err)
	}
	return n, nil
}

// AllGaps lists every ledger entry, oldest first.
func (s *Store) AllGaps(ctx context.Context) ([]store.Gap, error) {
	return s.gaps(ctx, "every market", `1=1`)
}

// AllConnects lists every kept connect attempt, oldest first.
func (s *Store) AllConnects(ctx context.Context) ([]store.Connect, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT venue, at FROM connects ORDER BY at, venue`)
	if err != nil {
		return nil, fmt.Errorf("read connects: %w", err)
	}
	defer rows.Close()
	var out []store.Connect
	for rows.Next() {
		var c store.Connect
		var ms int64
		if err := rows.Scan(&c.Venue, &ms); err != nil {
			return nil, fmt.Errorf("read connects: %w", err)
		}
		c.At = time.UnixMilli(ms)
		out = append(out, c)
	}
	return out, rows.Err()
}
