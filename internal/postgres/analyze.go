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
// of 10 ms. So the store analyses the candles itself once they have
// doubled (and grown by at least analyzeMin rows) since the last ANALYZE:
// a new table after its first hundred rows; a large one is left to
// autovacuum. The count is the head row's (moveHead), over every writer
// process, so one writer starts each run: four writers counting their own
// rows once ran it four times as often, a core's worth in a benchmark.
const analyzeMin = 100

// analyzer runs ANALYZE on the candles in the background; Close waits for
// a run in flight.
type analyzer struct {
	busy atomic.Bool
	wg   sync.WaitGroup
	stop context.Context // ends a run in flight when the store closes
	halt context.CancelFunc
}

// due reports whether grown new rows since the last ANALYZE, which
// counted analyzed, call for another.
func due(grown, analyzed int64) bool { return grown >= max(analyzeMin, analyzed) }

// run starts an ANALYZE unless one is in flight.
func (a *analyzer) run(s *Store) {
	if !a.busy.CompareAndSwap(false, true) {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.busy.Store(false)
		ctx, cancel := context.WithTimeout(a.stop, time.Minute)
		defer cancel()
		s.pool.Exec(ctx, `ANALYZE candles`) //nolint:errcheck // autovacuum will do it; this is only sooner
	}()
}
