package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/bincache"
)

// ErrInUse is returned by Open when another process writes the database.
var ErrInUse = errors.New("in use by another candlewire process (run, watch --db or backfill): one process writes a SQLite file; stop the other one, or share a store through PostgreSQL")

var errShared = errors.New("the database was opened to read beside its writer (OpenShared): it is not written through")

// writers are the files this process holds the writer lock of. A second
// Open of one of them is refused before any file handle is opened: closing
// a handle of the file would drop the fcntl locks SQLite holds on it.
var writers struct {
	sync.Mutex
	files []os.FileInfo
}

// Open opens (creating if needed) the database at path for writing and
// migrates it. It takes the file's writer lock, held until Close: a second
// writer of the same file, in this process or another, gets ErrInUse.
// now stamps update times; nil means time.Now.
func Open(ctx context.Context, path string, now func() time.Time) (*Store, error) {
	lock, err := claim(path)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, path, now)
	if err != nil {
		release(lock) //nolint:errcheck // the open error is what matters
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// claim opens path's lock handle and takes its advisory lock (flock),
// which no other process and no other Store of this one holds.
func claim(path string) (*os.File, error) {
	writers.Lock()
	defer writers.Unlock()
	if fi, err := os.Stat(path); err == nil && slices.ContainsFunc(writers.files, func(w os.FileInfo) bool { return os.SameFile(w, fi) }) {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, ErrInUse)
	}
	lock, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", pathError(err))
	}
	fi, err := lock.Stat()
	if err == nil {
		err = lockFile(lock)
	}
	if err != nil {
		lock.Close() // no SQLite handle of this process is open on it
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	writers.files = append(writers.files, fi)
	return lock, nil
}

// release closes the lock handle, after SQLite's own handles are closed,
// and forgets it.
func release(lock *os.File) error {
	writers.Lock()
	defer writers.Unlock()
	if fi, err := lock.Stat(); err == nil {
		writers.files = slices.DeleteFunc(writers.files, func(w os.FileInfo) bool { return os.SameFile(w, fi) })
	}
	return lock.Close()
}

// OpenShared opens an existing database to read beside its writer, without
// the writer lock (export): it does not migrate (a schema of another
// version is refused), reads the head from the database, and refuses
// writes.
func OpenShared(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", pathError(err))
	}
	db, err := connect(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := sameSchema(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return ready(ctx, db, path, nil, true)
}

// pathError adds to a missing file's error which directory is missing.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist) {
		if dir := filepath.Dir(pe.Path); dir != "." {
			if _, derr := os.Stat(dir); derr != nil {
				return fmt.Errorf("%w (directory %s does not exist)", err, dir)
			}
		}
	}
	return err
}

// open connects to path, migrates it and prepares the store.
func open(ctx context.Context, path string, now func() time.Time) (*Store, error) {
	db, err := connect(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate sqlite %s: %w", path, err)
	}
	return ready(ctx, db, path, now, false)
}

// connect opens the database handle and checks it answers.
func connect(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	// temp_store(MEMORY): the statement journals of multi-row upserts stay
	// in memory instead of a temporary file (a write a statement).
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(1)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// ready prepares a store over an open, migrated database.
func ready(ctx context.Context, db *sql.DB, path string, now func() time.Time, shared bool) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, now: now, shared: shared, bins: bincache.New()}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return s, nil
}
