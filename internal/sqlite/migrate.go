package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/store"
)

// migrations are applied in order, each exactly once; never edit one that
// has shipped, append a new one.
var migrations = []string{
	// 1: candles and the gap ledger.
	`CREATE TABLE candles (
		venue      TEXT    NOT NULL,
		symbol     TEXT    NOT NULL,
		interval   TEXT    NOT NULL,
		open_time  INTEGER NOT NULL,
		open       TEXT    NOT NULL,
		high       TEXT    NOT NULL,
		low        TEXT    NOT NULL,
		close      TEXT    NOT NULL,
		volume     TEXT    NOT NULL,
		quote      TEXT    NOT NULL,
		trades     INTEGER NOT NULL,
		state      INTEGER NOT NULL,
		rev        INTEGER NOT NULL,
		source     TEXT    NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (venue, symbol, interval, open_time)
	) WITHOUT ROWID;
	CREATE INDEX candles_reconciled ON candles (venue, symbol, interval, state, open_time);
	CREATE TABLE gaps (
		id          INTEGER PRIMARY KEY,
		venue       TEXT    NOT NULL,
		symbol      TEXT    NOT NULL,
		from_time   INTEGER NOT NULL,
		to_time     INTEGER NOT NULL,
		reason      TEXT    NOT NULL,
		status      TEXT    NOT NULL,
		filled      INTEGER NOT NULL,
		found_at    INTEGER NOT NULL,
		resolved_at INTEGER NOT NULL,
		detail      TEXT    NOT NULL
	);
	CREATE INDEX gaps_market ON gaps (venue, symbol, from_time);`,
	// 2: connect attempts, so the connect budget holds across restarts.
	`CREATE TABLE connects (
		venue TEXT    NOT NULL,
		at    INTEGER NOT NULL
	);
	CREATE INDEX connects_venue ON connects (venue, at);`,
	// 3: the sequence number of each row's current revision (the resume
	// cursor of every stream); rows stored before it are numbered in the
	// order they were last updated.
	`ALTER TABLE candles ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
	UPDATE candles SET seq = n.n FROM (SELECT venue, symbol, interval, open_time,
		ROW_NUMBER() OVER (ORDER BY updated_at, venue, symbol, interval, open_time) AS n FROM candles) AS n
		WHERE candles.venue = n.venue AND candles.symbol = n.symbol AND candles.interval = n.interval AND candles.open_time = n.open_time;
	CREATE INDEX candles_seq ON candles (venue, symbol, interval, seq);`,
	// 4: the epoch of the change log (store.Store.Epoch); set when the
	// database is created, so a client's cursor of a file since replaced
	// is known for what it is.
	`CREATE TABLE meta (epoch INTEGER NOT NULL);`,
	// 5: where the candles come from (ClaimOrigin): a simulation's never
	// mix with live ones.
	`ALTER TABLE meta ADD COLUMN origin TEXT NOT NULL DEFAULT '';`,
	// 6: the reconciled bins' index holds them alone, so that a write of a
	// provisional or closed bin (every flush's) leaves it alone.
	`DROP INDEX candles_reconciled;
	CREATE INDEX candles_final ON candles (venue, symbol, interval, open_time) WHERE state = 3;`,
	// 7: bins are keyed by a series number, not by three strings: every
	// write seeks and compares an integer, and its index entries shrink
	// (the writer's flush is mostly B-tree work). candles stays, as a
	// view, for every reader.
	`CREATE TABLE series (
		id       INTEGER PRIMARY KEY,
		venue    TEXT NOT NULL,
		symbol   TEXT NOT NULL,
		interval TEXT NOT NULL,
		UNIQUE (venue, symbol, interval)
	);
	INSERT INTO series (venue, symbol, interval)
		SELECT DISTINCT venue, symbol, interval FROM candles ORDER BY venue, symbol, interval;
	CREATE TABLE bins (
		series     INTEGER NOT NULL,
		open_time  INTEGER NOT NULL,
		open       TEXT    NOT NULL,
		high       TEXT    NOT NULL,
		low        TEXT    NOT NULL,
		close      TEXT    NOT NULL,
		volume     TEXT    NOT NULL,
		quote      TEXT    NOT NULL,
		trades     INTEGER NOT NULL,
		state      INTEGER NOT NULL,
		rev        INTEGER NOT NULL,
		source     TEXT    NOT NULL,
		updated_at INTEGER NOT NULL,
		seq        INTEGER NOT NULL,
		PRIMARY KEY (series, open_time)
	) WITHOUT ROWID;
	INSERT INTO bins SELECT s.id, c.open_time, c.open, c.high, c.low, c.close, c.volume, c.quote, c.trades,
		c.state, c.rev, c.source, c.updated_at, c.seq
		FROM candles c JOIN series s ON s.venue = c.venue AND s.symbol = c.symbol AND s.interval = c.interval;
	DROP TABLE candles;
	CREATE INDEX bins_seq ON bins (series, seq);
	CREATE INDEX bins_final ON bins (series, open_time) WHERE state = 3;
	CREATE VIEW candles AS SELECT s.venue, s.symbol, s.interval, b.open_time, b.open, b.high, b.low, b.close,
		b.volume, b.quote, b.trades, b.state, b.rev, b.source, b.updated_at, b.seq
		FROM bins b JOIN series s ON s.id = b.series;`,
}

// migrate brings the schema to the newest version.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this candlewire (%d)", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		if err := apply(ctx, db, v); err != nil {
			return err
		}
	}
	// A database with candles keeps its numbers: epoch 0.
	_, err := db.ExecContext(ctx, `INSERT INTO meta (epoch) SELECT CASE WHEN EXISTS (SELECT 1 FROM candles) THEN 0 ELSE ? END
		WHERE NOT EXISTS (SELECT 1 FROM meta)`, store.NewEpoch(0))
	if err != nil || have == 0 || have == len(migrations) {
		return err
	}
	// A migration may rewrite every row (7 did) through the WAL: give its
	// space back rather than keep a file as large as the database.
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint after migrating from version %d: %w", have, err)
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, v int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d: %w", v, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
		return fmt.Errorf("migration %d: %w", v, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?)`, v, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("migration %d: record: %w", v, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d: commit: %w", v, err)
	}
	return nil
}

// sameSchema checks, without changing anything, that the database has this
// version's schema: a reader beside a writer must not migrate it.
func sameSchema(ctx context.Context, db *sql.DB) error {
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version (is it a candlewire database?): %w", err)
	}
	if have != len(migrations) {
		return fmt.Errorf("database schema version %d, this candlewire reads version %d (open it with run or backfill once, which migrates it)", have, len(migrations))
	}
	return nil
}
