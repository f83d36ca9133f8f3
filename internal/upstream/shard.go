package upstream

import (
	"context"
	"sync"

	"github.com/candlewire/candlewire/internal/market"
)

// Shard splits markets into groups of at most per (one connection's worth)
// and runs each group on its own goroutine until ctx ends, then waits for
// all of them.
func Shard(ctx context.Context, markets []market.Market, per int, run func(ctx context.Context, group []market.Market)) {
	var wg sync.WaitGroup
	for i := 0; i < len(markets); i += max(per, 1) {
		group := markets[i:min(i+max(per, 1), len(markets))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx, group)
		}()
	}
	wg.Wait()
}
