package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	for {
		n, err := s.cut(ctx, cutoff, `WITH old AS (SELECT c.series, c.open_time FROM series sr CROSS JOIN LATERAL
				(SELECT series, open_time FROM candles WHERE series = sr.id AND open_time < $2 ORDER BY open_time LIMIT $1) c
				LIMIT $1)
			DELETE FROM candles c USING old WHERE c.series = old.series AND c.open_time = old.open_time`, retainChunk)
		if err != nil {
			return fmt.Errorf("apply the candle retention: %w", err)
		}
		if n < retainChunk {
			return nil
		}
	}
}

// retainChunk is the most candles one pass of the candle retention deletes
// in one transaction, which holds the head lock.
const retainChunk = 10_000

// cut runs a delete of candles that opened before before, in a transaction
// of its own that holds the head lock (as every write does, so neither
// waits for the other's rows while holding its own), and when it deleted
// any, raises the head's cut to before: a writer's cache of recent rows
// forgets those below the cut (recent).
func (s *Store) cut(ctx context.Context, before int64, del string, args ...any) (deleted int64, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM candle_head WHERE id = 1 FOR UPDATE`); err != nil {
			return fmt.Errorf("lock the head: %w", err)
		}
		tag, err := tx.Exec(ctx, del, append(args, before)...)
		if err != nil {
			return err
		}
		if deleted = tag.RowsAffected(); deleted == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE candle_head SET cut = greatest(cut, $1) WHERE id = 1`, before)
		return err
	})
	return deleted, err
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
// it went finds its guard refused and retries (ErrLostGuard); one that
// cached it finds the cut moved and forgets its cache.
func (s *Store) DeleteBefore(ctx context.Context, sr market.Series, before int64, limit int) (int64, error) {
	n, err := s.cut(ctx, before, `WITH sr AS (SELECT id FROM series WHERE venue = $1 AND symbol = $2 AND interval = $3),
		old AS (SELECT c.series, c.open_time FROM candles c, sr WHERE c.series = sr.id AND c.open_time < $5 ORDER BY c.open_time LIMIT $4)
		DELETE FROM candles c USING old WHERE c.series = old.series AND c.open_time = old.open_time`,
		sr.Market.Venue, sr.Market.Symbol, string(sr.Interval), limit)
	if err != nil {
		return 0, fmt.Errorf("delete %s before %d: %w", sr, before, err)
	}
	return n, nil
}
