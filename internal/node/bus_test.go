package node

import (
	"context"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// TestConnectBudgetPerCollector: two collectors of a cluster on one store
// keep their connect attempts apart (each has its own address and budget),
// and apart from a single node's.
func TestConnectBudgetPerCollector(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	now := time.Now()
	logs := []upstream.ConnectLog{nodeConnects{log: st, node: "c1"}, nodeConnects{log: st, node: "c2"}, st}
	for i, l := range logs {
		for range i + 1 {
			if err := l.AddConnect(ctx, "binance", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, l := range logs {
		got, err := l.Connects(ctx, "binance", now.Add(-time.Minute))
		if err != nil || len(got) != i+1 {
			t.Errorf("log %d: %d attempts (%v), want %d", i, len(got), err, i+1)
		}
	}
}
