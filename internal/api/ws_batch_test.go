package api

import (
	"testing"

	"github.com/candlewire/candlewire/internal/wsconn"
)

// TestWriteBatchSetting: WebSocket writes are batched by default where
// io_uring works, and not when WriteBatch is negative.
func TestWriteBatchSetting(t *testing.T) {
	_, probe := wsconn.NewBatch(8)
	for _, c := range []struct {
		size int
		want bool
	}{{0, probe == nil}, {16, probe == nil}, {-1, false}} {
		ok, err := New(Config{WriteBatch: c.size}).Batched()
		if ok != c.want || (c.size > 0 && !ok && err == nil) {
			t.Errorf("WriteBatch %d: batched %v (%v), want %v", c.size, ok, err, c.want)
		}
	}
}
