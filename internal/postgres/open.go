package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/jackc/pgx/v5/pgxpool"
)

// IsDSN reports whether db names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than a SQLite file.
func IsDSN(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Options are a store's settings beyond its DSN.
type Options struct {
	// Now stamps update times; nil means time.Now.
	Now func() time.Time
	// StartFor bounds how long Open retries a server that does not answer
	// (down, starting); 0 means 15 s.
	StartFor time.Duration
	// Retention is what Run keeps (zero Changes: DefaultChangeRetention).
	Retention config.Retention
	// Logger says when a retention pass fails; nil discards.
	Logger *slog.Logger
}

// Open connects to the database at dsn, retrying for o.StartFor while it
// does not answer, and migrates its schema.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retention.Changes <= 0 {
		o.Retention.Changes = DefaultChangeRetention
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// The write protocol needs read committed (each statement sees what
	// committed before it), and no session may hold the writers' lock for
	// ever: one stuck in a transaction is ended after a minute, and a writer
	// waits for the lock at most 30 s, then fails its batch and retries.
	for k, v := range map[string]string{"default_transaction_isolation": "read committed", "lock_timeout": "30s",
		"idle_in_transaction_session_timeout": "60s"} {
		if _, ok := cfg.ConnConfig.RuntimeParams[k]; !ok {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	if err := reach(ctx, pool, o.StartFor); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	s := &Store{pool: pool, now: o.Now, retain: o.Retention, log: o.Logger, recent: newRecent()}
	s.stats.stop, s.stats.halt = context.WithCancel(context.Background())
	if _, err := restored(ctx, pool, o.Logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	var epoch int32
	if err := pool.QueryRow(ctx, `SELECT epoch FROM candle_head WHERE id = 1`).Scan(&epoch); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: read the epoch: %w", Redact(dsn), err)
	}
	s.epoch.Store(int64(epoch))
	return s, nil
}

// reach pings the server until it answers or within has passed, with
// waits growing to 2 s.
func reach(ctx context.Context, pool *pgxpool.Pool, within time.Duration) error {
	if within <= 0 {
		within = 15 * time.Second
	}
	deadline := time.Now().Add(within)
	wait := 100 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("not reachable for %s: %s", within, oneLine(err))
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// oneLine is err's text on one line: the driver lists each address it
// tried on a line of its own, often the same reason twice.
func oneLine(err error) string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSuffix(strings.TrimSpace(l), ":"); l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return strings.Join(out, ": ")
}

// Redact is dsn without its password, for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unreadable DSN)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
