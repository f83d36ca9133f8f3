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
	"strconv"
	"time"
)

// BackupInfo is what Backup copied.
type BackupInfo struct {
	Bytes   int64         // the copy's size
	Candles int64         // rows of every interval
	Head    int64         // the newest change's sequence number in the copy
	Took    time.Duration // from start to the copy in place
}

// Backup writes a consistent copy of the database at src to dst while
// its writer (run) goes on: VACUUM INTO reads one snapshot of the
// database, as of the moment it starts, and writes it compacted. The copy
// is written beside dst, checked (PRAGMA quick_check, the schema version)
// and renamed into place, so dst is whole or absent. dst must not exist.
func Backup(ctx context.Context, src, dst string) (BackupInfo, error) {
	start := time.Now()
	if _, err := os.Stat(src); err != nil {
		return BackupInfo{}, fmt.Errorf("back up: %w", pathError(err))
	}
	if _, err := os.Lstat(dst); err == nil {
		return BackupInfo{}, fmt.Errorf("back up to %s: %w (a backup never replaces a file)", dst, fs.ErrExist)
	}
	db, err := connect(ctx, src)
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	if err := sameSchema(ctx, db); err != nil {
		return BackupInfo{}, fmt.Errorf("back up %s: %w", src, err)
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-"+strconv.Itoa(os.Getpid()))
	os.Remove(tmp) // left by a backup that was killed
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return BackupInfo{}, fmt.Errorf("back up %s to %s: %w", src, dst, pathError(err))
	}
	info, err := checkCopy(ctx, tmp)
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return BackupInfo{}, fmt.Errorf("back up %s to %s: %w", src, dst, err)
	}
	syncFile(filepath.Dir(dst)) //nolint:errcheck // the rename is done; a crash now may lose the name, not the source
	info.Took = time.Since(start)
	return info, nil
}

// checkCopy reads the copy back: quick_check passes, the schema is this
// version's, and it counts the candles.
func checkCopy(ctx context.Context, path string) (BackupInfo, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"mode": {"ro"}}.Encode())
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil || check != "ok" {
		return BackupInfo{}, errors.Join(fmt.Errorf("the copy fails its check: %q", check), err)
	}
	if err := sameSchema(ctx, db); err != nil {
		return BackupInfo{}, err
	}
	var info BackupInfo
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM bins`).Scan(&info.Candles, &info.Head); err != nil {
		return BackupInfo{}, fmt.Errorf("read the copy: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	info.Bytes = fi.Size()
	return info, nil
}

// syncFile flushes a file or directory to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
