// Package sqlite is the embedded store.Store: SQLite through the pure-Go
// modernc.org/sqlite driver (no cgo, so the binary stays static), in WAL
// mode, with versioned schema migrations.
//
// Each Upsert is one transaction; a process killed mid-write loses at most
// that uncommitted batch, and the collector's gap repair refills it on the
// next start.
package sqlite
