package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/candlewire/candlewire/internal/store"
)

// whereSQL names where the change log is now: the server's system
// identifier, its current timeline (from the name of the WAL file being
// written, which changes the moment a standby is promoted; the last
// checkpoint's changes only after the next one) and the database's oid.
const whereSQL = `SELECT s.system_identifier::text || '/' ||
		('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int || '/' ||
		(SELECT oid FROM pg_database WHERE datname = current_database())
	FROM pg_control_system() s`

// restored starts a new epoch when the change log is not where it was
// written: restored into another server (a new system identifier) or
// database (a dump loaded into a new one: a new oid), or recovered to a
// point in time or failed over to a standby (a new timeline). Changes a
// client saw may then be gone, or numbered again with other contents, so
// every cursor handed out before must resync. The new epoch is above the
// old one, and the head and the floor move to its first number: the old
// rows' numbers stay below every new one. Open runs it, and so does every
// pass of the upkeep (Run), which finds a failover under a running node
// within a minute (writes in that minute are numbered in the old epoch).
// It reports whether it started a new epoch.
func restored(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (moved bool, err error) {
	q := `SELECT (` + whereSQL + `), h.server, h.epoch FROM candle_head h WHERE h.id = 1`
	var here, was string
	var epoch int64
	if err := pool.QueryRow(ctx, q).Scan(&here, &was, &epoch); err != nil {
		return false, fmt.Errorf("read where the change log was written: %w", err)
	}
	if was == here {
		return false, nil // the common case, without the head lock
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, q+` FOR UPDATE OF h`).Scan(&here, &was, &epoch); err != nil {
			return fmt.Errorf("read where the change log was written: %w", err)
		}
		switch {
		case was == here:
			return nil
		case was == "" || legacy(was, here):
			// first open on this server, or of a store older than this check
			_, err = tx.Exec(ctx, `UPDATE candle_head SET server = $1 WHERE id = 1`, here)
			return err
		}
		moved = true
		next := epoch + 1 + rand.Int64N(max(1, min(100, store.MaxEpoch-epoch-1)))
		if next > store.MaxEpoch {
			return fmt.Errorf("the change log moved from server %s to %s, and its epoch %d has no successor", was, here, epoch)
		}
		log.Warn("the change log is on another server or timeline than it was written on (restored, recovered or failed over): "+
			"starting a new epoch; clients resync", "was", was, "now", here, "epoch", next)
		_, err = tx.Exec(ctx, `UPDATE candle_head SET server = $1, epoch = $2, seq = greatest(seq, $3), floor = greatest(seq, $3)
			WHERE id = 1`, here, next, next<<store.EpochShift)
		return err
	})
	return moved && err == nil, err
}

// legacy reports whether was names the server as candlewire did before
// the database was part of the name (system identifier and the last
// checkpoint's timeline), with here's system identifier: its timeline was
// read differently then, so only a new server counts.
func legacy(was, here string) bool {
	sys, _, _ := strings.Cut(here, "/")
	return strings.Count(was, "/") == 1 && strings.HasPrefix(was, sys+"/")
}
