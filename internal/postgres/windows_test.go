package postgres

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// TestRollupsFromOneRead: rollups computed from the windows read in one
// statement store exactly what SQLite stores (which reads them one by
// one, or from its bin cache), through random versions of recent and old
// bins and transactions that roll back; and every stored coarser bin is
// its parts' aggregate. The store has no cache of recent rows, so every
// rollup reads its windows (with the cache, only what it cannot answer
// does: TestTwoWritersStayExact).
func TestRollupsFromOneRead(t *testing.T) {
	ref, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ref.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	s := openFresh(t)
	s.recent = nil
	storetest.SameUnderRandomWrites(t, s, ref, 3, 150, 50)
}
