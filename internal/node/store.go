package node

import (
	"context"

	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

// OpenStore opens the store db names: a PostgreSQL database for a
// postgres:// (or postgresql://) URL, else a SQLite file. reader opens a
// SQLite file to read beside the process that writes it (export); a
// PostgreSQL database is shared by any number of readers and writers.
func OpenStore(ctx context.Context, db string, reader bool) (store.Store, error) {
	return openStore(ctx, db, reader, postgres.Options{})
}

// openStore is OpenStore with a PostgreSQL store's options.
func openStore(ctx context.Context, db string, reader bool, o postgres.Options) (store.Store, error) {
	var (
		st  store.Store
		err error
	)
	switch {
	case postgres.IsDSN(db):
		st, err = postgres.Open(ctx, db, o)
	case reader:
		st, err = sqlite.OpenShared(ctx, db)
	default:
		st, err = sqlite.Open(ctx, db, nil)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}
