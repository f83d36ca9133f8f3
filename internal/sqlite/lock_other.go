//go:build !unix

package sqlite

import "os"

// lockFile is a no-op where flock is not available: two writers of one
// file are not detected there.
func lockFile(*os.File) error { return nil }
