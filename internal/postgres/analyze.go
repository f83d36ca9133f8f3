package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Statistics of a growing table. The planner picks indexes by the
// statistics of the last ANALYZE; autovacuum runs it about once a minute,
// after a tenth of the table changed. A table that grows from nothing
// faster than that (a new store, a migrate, a bench) is planned as if it
// were tiny: the batch lookup then probed the sequence index and filtered a
// whole series for every bin, and a write of 500 rows took 1.2 s instead
// of 10 ms. So the store analyses the candles itself once they have grown
// by a fifth (and at least analyzeMin rows) since it last did.
const analyzeMin = 2000

// analyzer runs ANALYZE on the candles in the background when they have
// grown enough; Close waits for a run in flight.
type analyzer struct {
	grown atomic.Int64 // rows inserted since the last run
	base  atomic.Int64 // rows at the last run (or as the statistics had them at open)
	busy  atomic.Bool
	wg    sync.WaitGroup
	stop  context.Context // ends a run in flight when the store closes
	halt  context.CancelFunc
}

// inserted counts new rows and starts a run when they are enough.
func (a *analyzer) inserted(s *Store, n int) {
	if n == 0 {
		return
	}
	g := a.grown.Add(int64(n))
	if g < max(analyzeMin, a.base.Load()/5) || !a.busy.CompareAndSwap(false, true) {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.busy.Store(false)
		ctx, cancel := context.WithTimeout(a.stop, time.Minute)
		defer cancel()
		if _, err := s.pool.Exec(ctx, `ANALYZE candles`); err != nil {
			return // autovacuum will do it; this is only sooner
		}
		a.grown.Add(-g)
		a.base.Add(g)
	}()
}
