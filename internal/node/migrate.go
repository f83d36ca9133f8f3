package node

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/candlewire/candlewire/internal/migrate"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// Migrate copies the SQLite store in file from into the PostgreSQL
// database at to (migrate.Copy), drawing progress on a terminal. The file
// is read beside its writer, if one runs.
func Migrate(ctx context.Context, from, to string, progress io.Writer) (migrate.Report, error) {
	if !postgres.IsDSN(to) {
		return migrate.Report{}, fmt.Errorf("--to %q: want a postgres:// URL", to)
	}
	src, err := sqlite.OpenShared(ctx, from)
	if err != nil {
		return migrate.Report{}, err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, to, postgres.Options{})
	if err != nil {
		return migrate.Report{}, err
	}
	defer dst.Close()
	// The copy keeps the file's origin: simulated candles never mix with live ones.
	origin, err := src.Origin(ctx)
	if err == nil {
		err = ClaimOrigin(ctx, dst, to, origin)
	}
	if err != nil {
		return migrate.Report{}, fmt.Errorf("migrate %s: %w", from, err)
	}
	abs, err := filepath.Abs(from) // the gaps' origin: the same file however it is named
	if err != nil {
		return migrate.Report{}, err
	}
	return migrate.Copy(ctx, src, dst, "sqlite:"+abs, progress)
}
