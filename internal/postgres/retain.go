package postgres

import (
	"context"
	"fmt"
	"time"
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
