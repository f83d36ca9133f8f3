package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/candlewire/candlewire/internal/node"
)

// migrateCmd runs `candlewire migrate --from FILE.db --to postgres://…`.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	from := fs.String("from", "", "SQLite file to copy from (required)")
	to := fs.String("to", "", "postgres:// URL to copy into (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return fmt.Errorf("%w: migrate needs --from FILE.db and --to postgres://…", errUsage)
	}
	r, err := node.Migrate(ctx, *from, *to, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, r)
	return nil
}
