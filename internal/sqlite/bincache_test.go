package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/candlewire/candlewire/internal/store/storetest"
)

// TestBinCacheMatchesTheFile: a store that merges and rolls up from its
// bin cache stores exactly what one that reads every row back stores,
// through random versions of recent and old bins (repairs outside what the
// cache keeps), rollups, and transactions that roll back.
func TestBinCacheMatchesTheFile(t *testing.T) {
	cached, plain := openAt(t, "cached.db"), openAt(t, "plain.db")
	plain.bins = nil // every read goes to the file
	storetest.SameUnderRandomWrites(t, cached, plain, 7, 400, 20)
}

func openAt(t *testing.T, name string) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), name), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
