package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are applied in order, each exactly once; never edit one that
// has shipped, append a new one.
var migrations = []string{
	// 1: candles with the sequence number of their current revision, the
	// head of that sequence (its row is the writers' lock), the store's
	// epoch, the gap ledger and the connect log.
	`CREATE TABLE candles (
		venue      text     NOT NULL,
		symbol     text     NOT NULL,
		interval   text     NOT NULL,
		open_time  bigint   NOT NULL,
		open       numeric  NOT NULL,
		high       numeric  NOT NULL,
		low        numeric  NOT NULL,
		close      numeric  NOT NULL,
		volume     numeric  NOT NULL,
		quote      numeric  NOT NULL,
		trades     bigint   NOT NULL,
		state      smallint NOT NULL,
		rev        bigint   NOT NULL,
		source     text     NOT NULL,
		updated_at bigint   NOT NULL,
		seq        bigint   NOT NULL,
		PRIMARY KEY (venue, symbol, interval, open_time)
	);
	CREATE INDEX candles_seq ON candles (venue, symbol, interval, seq);
	CREATE INDEX candles_reconciled ON candles (venue, symbol, interval, state, open_time);
	CREATE TABLE candle_head (
		id    smallint PRIMARY KEY CHECK (id = 1),
		seq   bigint   NOT NULL,
		epoch text     NOT NULL
	);
	INSERT INTO candle_head VALUES (1, 0, md5(random()::text || clock_timestamp()::text));
	CREATE TABLE gaps (
		id          bigserial PRIMARY KEY,
		venue       text   NOT NULL,
		symbol      text   NOT NULL,
		from_time   bigint NOT NULL,
		to_time     bigint NOT NULL,
		reason      text   NOT NULL,
		status      text   NOT NULL,
		filled      bigint NOT NULL,
		found_at    bigint NOT NULL,
		resolved_at bigint NOT NULL,
		detail      text   NOT NULL
	);
	CREATE INDEX gaps_market ON gaps (venue, symbol, from_time);
	CREATE TABLE connects (
		venue text   NOT NULL,
		at    bigint NOT NULL
	);
	CREATE INDEX connects_venue ON connects (venue, at);`,
	// 2: where a copied gap came from (candlewire migrate), so copying
	// again updates it instead of adding it twice.
	`ALTER TABLE gaps ADD COLUMN origin text;
	CREATE UNIQUE INDEX gaps_origin ON gaps (origin);`,
	// 3: the index of reconciled candles holds only them, ordered by open
	// time: with the state as its fourth column, the planner took it for
	// the primary key's lookups and scanned a whole series per bin.
	`DROP INDEX candles_reconciled;
	CREATE INDEX candles_final ON candles (venue, symbol, interval, open_time) WHERE state = 3;`, // market.Reconciled
	// 4: the epoch as a number a cursor carries (store.EpochShift), the
	// floor below which cursors are past the change log's retention, and
	// the head at each minute, from which the floor is found.
	`ALTER TABLE candle_head DROP COLUMN epoch;
	ALTER TABLE candle_head ADD COLUMN epoch integer NOT NULL DEFAULT (1 + floor(random() * 8191))::integer;
	ALTER TABLE candle_head ADD COLUMN floor bigint NOT NULL DEFAULT 0;
	CREATE TABLE head_marks (
		minute bigint PRIMARY KEY,
		seq    bigint NOT NULL
	);
	UPDATE candle_head SET epoch = 0 WHERE seq > 0;
	UPDATE candle_head SET seq = epoch::bigint << 40 WHERE seq = 0;`,
	// 5: the server the change log was written on (its system identifier
	// and timeline), so that a restore into another server, a point-in-time
	// recovery or a failover starts a new epoch (restored).
	`ALTER TABLE candle_head ADD COLUMN server text NOT NULL DEFAULT '';`,
	// 6: the change log over every series, in order (Changes: a node's
	// tail reads it to feed its live clients).
	`CREATE INDEX candles_changes ON candles (seq);`,
}

// migrateLock is the advisory lock key that makes concurrent starts
// migrate one at a time ("candlewire" in ASCII, truncated to 63 bits).
const migrateLock = 0x63616e646c657769

// migrate brings the schema to the newest version. Two processes starting
// at once take turns: the second finds the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock)) //nolint:errcheck // released with the session anyway
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at bigint NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this candlewire (%d)", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		if err := apply(ctx, conn.Conn(), v); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, conn *pgx.Conn, v int) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2)`, v, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migration %d: record: %w", v, err)
		}
		return nil
	})
}
