package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// backupCmd runs `candlewire backup [--db FILE] FILE`: a consistent copy
// of a SQLite store, taken while run goes on writing it.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	db := fs.String("db", "", "the SQLite store to copy (default $"+dbEnv+", else ./candlewire.db)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return misuse{"backup needs one file to write the copy to: candlewire backup [--db FILE] COPY.db\n" + helpHint(fs)}
	}
	src := dbOf(*db, "")
	if postgres.IsDSN(src) {
		return misuse{"backup copies a SQLite store; back up PostgreSQL with its own tools (pg_dump, or a base backup)"}
	}
	info, err := sqlite.Backup(ctx, src, rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s: %d candles through change %d, %.1f MiB, in %s\n",
		src, rest[0], info.Candles, info.Head, float64(info.Bytes)/(1<<20), info.Took.Round(1e6))
	return nil
}
