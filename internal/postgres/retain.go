package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// DefaultChangeRetention is how old a cursor may be by default and still
// resume.
const DefaultChangeRetention = 7 * 24 * time.Hour

// Run is the store's upkeep as a component of a node: once a minute until
// ctx ends it looks for a change of server (restored: a failover under the
// running node) and applies the retention (Retain). Several processes may
// run it on one database; each pass is idempotent.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if moved, err := restored(ctx, s.pool, s.log); err != nil && ctx.Err() == nil {
			s.log.Warn("checking the change log's server failed; the next pass retries", "err", err)
		} else if moved {
			s.known.forget() // the restore may lack series added since
		}
		if err := s.Retain(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("retention pass failed; the next one retries", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Retain moves the floor of the change log up to the head of the newest
// minute older than the change retention, so older cursors resync, and
// forgets candles whose bin ended longer ago than the candle retention,
// when one is set: those that opened a day more before it, so that a
// coarser bin is never deleted while its minutes are kept.
func (s *Store) Retain(ctx context.Context) error {
	cutoff := s.now().Add(-s.retain.Changes).UnixMilli()
	_, err := s.pool.Exec(ctx, `WITH old AS (DELETE FROM head_marks WHERE minute < $1 RETURNING seq)
		UPDATE candle_head SET floor = greatest(floor, (SELECT coalesce(max(seq), 0) FROM old)) WHERE id = 1`, cutoff)
	if err != nil {
		return fmt.Errorf("apply the change retention: %w", err)
	}
	if s.retain.Candles <= 0 {
		return nil
	}
	cutoff = s.now().Add(-s.retain.Candles - 24*time.Hour).UnixMilli()
	if _, err := s.pool.Exec(ctx, `DELETE FROM candles WHERE open_time < $1`, cutoff); err != nil {
		return fmt.Errorf("apply the candle retention: %w", err)
	}
	return nil
}

// Series lists the stored series (retention).
func (s *Store) Series(ctx context.Context) ([]market.Series, error) {
	rows, err := s.pool.Query(ctx, `SELECT venue, symbol, interval FROM series ORDER BY venue, symbol, interval`)
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

// DeleteBefore deletes at most limit bins of sr that opened before
// before, oldest first (retention). A writer that read one of them before
// it went finds its guard refused and retries (ErrLostGuard).
func (s *Store) DeleteBefore(ctx context.Context, sr market.Series, before int64, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `WITH sr AS (SELECT id FROM series WHERE venue = $1 AND symbol = $2 AND interval = $3),
		old AS (SELECT c.series, c.open_time FROM candles c, sr WHERE c.series = sr.id AND c.open_time < $4 ORDER BY c.open_time LIMIT $5)
		DELETE FROM candles c USING old WHERE c.series = old.series AND c.open_time = old.open_time`,
		sr.Market.Venue, sr.Market.Symbol, string(sr.Interval), before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete %s before %d: %w", sr, before, err)
	}
	return tag.RowsAffected(), nil
}
