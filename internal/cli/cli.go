package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
)

const usage = `candlewire collects live OHLCV candles, keeps them exactly right, stores and serves them.

Usage:
  candlewire run      [--markets M,...] [--db FILE|postgres://…] [--listen ADDR] [--config FILE] [--sim]
                      [--ws-url VENUE=URL] [--rest-url VENUE=URL] [--nats URL,...] [--node NAME]
  candlewire collect  [--markets M,...] --db postgres://… [--nats URL,...] [--node NAME] [--listen ADDR] [--sim]
  candlewire serve    [--markets M,...] --db postgres://… [--nats URL,...] [--node NAME] [--listen ADDR]
  candlewire cluster  status|drain NODE|undrain NODE [--nats URL,...] [--config FILE]
  candlewire watch    [MARKET...] [--json] [--sim] [--db FILE] [--config FILE]
  candlewire sim      [--listen ADDR] [--seed N] [--speed X] [--bin-delay D] [--symbols S,...] [--fault F]...
  candlewire backfill --market M --from T --to T [--db FILE] [--sim]
  candlewire export   --market M --interval I --from T --to T --format csv|jsonl [--db FILE]
  candlewire record   [--markets M,...] [--dir DIR] [--rotate 1h] [--max-size MiB] [--duration D] [--sim]
  candlewire replay   FILE... [--listen ADDR] [--speed X]
  candlewire markets  VENUE [--json] [--sim] [--rest-url VENUE=URL]
  candlewire migrate  --from FILE.db --to postgres://USER@HOST/DB
  candlewire backup   [--db FILE] COPY.db
  candlewire bench    fanout [--clients 10000] [--rate 10] [--duration 30s]
  candlewire bench    transports [--clients 1000] [--rate 1] [--duration 30s] [--png FILE]
  candlewire bench    collect [--markets 300] [--speed X] [--duration 5m] [--fault F]
  candlewire bench    soak [--ws 5000] [--sse 500] [--poll 500] [--duration 1h] [--every 1m] [--fault-every 3m]
  candlewire version

Markets are venue:SYMBOL (default binance:BTCUSDT). Times are RFC 3339, YYYY-MM-DD,
Unix milliseconds, "now", or a duration before now such as 6h, 3d or 2w.
Run "candlewire COMMAND -h" for a command's flags.
`

// errUsage marks a command-line mistake (exit status 2), as do an
// unknown venue and a market its venue does not list.
var errUsage = errors.New("usage")

// Main runs one command and returns the process exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"run": runCmd, "watch": watchCmd, "sim": simCmd, "backfill": backfillCmd, "export": exportCmd, "bench": benchCmd,
		"record": recordCmd, "replay": replayCmd, "markets": marketsCmd, "migrate": migrateCmd,
		"collect": collectCmd, "serve": serveCmd, "cluster": clusterCmd, "version": versionCmd,
		"backup": backupCmd,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "candlewire: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage), errors.Is(err, registry.ErrUnknown), errors.Is(err, instrument.ErrUnlisted):
		fmt.Fprintf(stderr, "candlewire %s: %v\n", args[0], err)
		return 2
	}
	fmt.Fprintf(stderr, "candlewire %s: %v\n", args[0], err)
	return 1
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("candlewire "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// dbEnv names the variable that says which store to use when --db does
// not (run, backfill, export): a SQLite file or a postgres:// URL.
const dbEnv = "CANDLEWIRE_DB"

// dbOf is the store a command uses: --db, else $CANDLEWIRE_DB, else the
// config file's db, else the default file.
func dbOf(flag, config string) string {
	return cmp.Or(flag, os.Getenv(dbEnv), config, "./candlewire.db")
}

// dbUsage is the help of --db.
const dbUsage = "store: a SQLite file or a postgres:// URL (default $" + dbEnv + ", else the config's db, else ./candlewire.db)"

// newLogger writes text logs to w at the named level.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// timeFlag reads a time flag (market.ParseTime).
func timeFlag(s string, now time.Time) (int64, error) {
	ms, err := market.ParseTime(s, now)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errUsage, err)
	}
	return ms, nil
}

// fmtTime renders UTC ms as RFC 3339.
func fmtTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }
