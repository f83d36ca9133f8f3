package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// Series lists every stored market and interval (candlewire migrate).
func (s *Store) Series(ctx context.Context) ([]market.Series, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT venue, symbol, interval FROM candles ORDER BY venue, symbol, interval`)
	if err != nil {
		return nil, fmt.Errorf("list stored series: %w", err)
	}
	defer rows.Close()
	var out []market.Series
	for rows.Next() {
		var sr market.Series
		var iv string
		if err := rows.Scan(&sr.Market.Venue, &sr.Market.Symbol, &iv); err != nil {
			return nil, fmt.Errorf("list stored series: %w", err)
		}
		sr.Interval = market.Interval(iv)
		out = append(out, sr)
	}
	return out, rows.Err()
}

// Count is how many candles are stored.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM candles`).Scan(&n); err != nil {
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
