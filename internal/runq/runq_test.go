package runq

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestNoLostWakeups schedules jobs from many goroutines while they run:
// every job must run after its last schedule, never twice at once.
func TestNoLostWakeups(t *testing.T) {
	for _, tc := range []struct {
		name      string
		workers   int
		jobs      int
		schedules int
	}{
		{"one worker", 1, 50, 200},
		{"four workers", 4, 200, 200},
		{"more workers than jobs", 16, 3, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := New(tc.workers)
			type counter struct {
				want, seen atomic.Int64 // schedules made, schedules seen by a run
				inRun      atomic.Int32
				overlap    atomic.Bool
			}
			cs := make([]*counter, tc.jobs)
			jobs := make([]*Job, tc.jobs)
			for i := range cs {
				c := &counter{}
				cs[i] = c
				jobs[i] = q.Job(func() {
					if c.inRun.Add(1) != 1 {
						c.overlap.Store(true)
					}
					c.seen.Store(c.want.Load())
					c.inRun.Add(-1)
				})
			}
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range tc.schedules {
						i := (g*7919 + n) % tc.jobs
						cs[i].want.Add(1)
						jobs[i].Schedule()
					}
				}()
			}
			wg.Wait()
			q.Wait()
			for i, c := range cs {
				if c.overlap.Load() {
					t.Errorf("job %d ran twice at once", i)
				}
				if c.seen.Load() != c.want.Load() {
					t.Errorf("job %d: last run saw %d schedules of %d: a wake-up was lost", i, c.seen.Load(), c.want.Load())
				}
			}
			q.mu.Lock()
			defer q.mu.Unlock()
			if q.workers != 0 || q.head != len(q.jobs) {
				t.Errorf("after Wait: %d workers, %d queued", q.workers, len(q.jobs)-q.head)
			}
		})
	}
}

// TestWorkersBounded checks that no more than the configured workers run.
func TestWorkersBounded(t *testing.T) {
	q := New(3)
	var running, peak atomic.Int32
	block := make(chan struct{})
	var jobs []*Job
	for range 20 {
		jobs = append(jobs, q.Job(func() {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-block
			running.Add(-1)
		}))
	}
	for _, j := range jobs {
		j.Schedule()
	}
	close(block)
	q.Wait()
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("peak concurrent runs %d, want 1..3", p)
	}
}

func BenchmarkSchedule(b *testing.B) {
	q := New(2)
	var n atomic.Int64
	jobs := make([]*Job, 10000)
	for i := range jobs {
		jobs[i] = q.Job(func() { n.Add(1) })
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		jobs[i%len(jobs)].Schedule()
	}
	q.Wait()
}

// countBatch is an in-memory Batch: jobs add to it, Flush moves what it
// holds to flushed; it is due at due entries.
type countBatch struct {
	mu      sync.Mutex
	held    int
	due     int
	flushed *atomic.Int64
	flushes *atomic.Int64
}

func (b *countBatch) add()          { b.mu.Lock(); b.held++; b.mu.Unlock() }
func (b *countBatch) Due() bool     { b.mu.Lock(); defer b.mu.Unlock(); return b.held >= b.due }
func (b *countBatch) Pending() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.held > 0 }
func (b *countBatch) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushed.Add(int64(b.held))
	b.flushes.Add(1)
	b.held = 0
}

// TestBatchesFlushBeforeIdle: what jobs leave in their worker's batch is
// flushed when it is due and always before the queue goes idle, and every
// batch goes back when its worker ends.
func TestBatchesFlushBeforeIdle(t *testing.T) {
	for _, tc := range []struct {
		name          string
		workers, jobs int
		due           int
	}{
		{"one worker, due at 4", 1, 50, 4},
		{"four workers, never due", 4, 200, 1 << 30},
		{"two workers, due at once", 2, 30, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var flushed, flushes, out, back atomic.Int64
			q := NewBatched(tc.workers, func() Batch {
				out.Add(1)
				return &countBatch{due: tc.due, flushed: &flushed, flushes: &flushes}
			}, func(Batch) { back.Add(1) })
			jobs := make([]*Job, tc.jobs)
			for i := range jobs {
				jobs[i] = q.JobIn(func(b Batch) { b.(*countBatch).add() })
			}
			for round := 1; round <= 3; round++ {
				for _, j := range jobs {
					j.Schedule()
				}
				q.Wait()
				if got := flushed.Load(); got != int64(round*tc.jobs) {
					t.Fatalf("round %d: %d flushed after Wait, want %d", round, got, round*tc.jobs)
				}
			}
			if tc.due == 1 && flushes.Load() != flushed.Load() {
				t.Errorf("due at once: %d flushes for %d entries", flushes.Load(), flushed.Load())
			}
			for out.Load() != back.Load() { // put runs as the worker ends, just after Wait may return
				runtime.Gosched()
			}
		})
	}
}

// TestBlockedJobHoldsNoOthers: jobs queued behind one that blocks run on
// another worker meanwhile, rather than waiting in the blocked worker's
// hands (as they would if workers took several jobs at a time).
func TestBlockedJobHoldsNoOthers(t *testing.T) {
	q := New(2)
	relA, relB, startedA, startedB := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	release, blocked := make(chan struct{}), make(chan struct{})
	var ran atomic.Int32
	a := q.Job(func() { close(startedA); <-relA })
	b := q.Job(func() { close(startedB); <-relB })
	stuck := q.Job(func() { close(blocked); <-release })
	others := make([]*Job, 6)
	for i := range others {
		others[i] = q.Job(func() { ran.Add(1) })
	}
	a.Schedule()
	<-startedA
	b.Schedule()
	stuck.Schedule() // two queued: a second worker starts, for b
	for _, j := range others {
		j.Schedule()
	}
	<-startedB  // both workers are busy; stuck and the others are queued
	close(relB) // its worker takes the next job, stuck, and blocks in it
	<-blocked
	close(relA) // the other worker finds the rest in the queue
	deadline := time.Now().Add(10 * time.Second)
	for ran.Load() < int32(len(others)) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	n := ran.Load()
	close(release)
	q.Wait()
	if n != int32(len(others)) {
		t.Fatalf("%d of %d jobs ran while one blocked a worker", n, len(others))
	}
}

// TestLongQueueRunsInOrder: from a long queue every job runs once, in the
// order scheduled (one worker).
func TestLongQueueRunsInOrder(t *testing.T) {
	q := New(1)
	var order []int
	jobs := make([]*Job, 1000)
	for i := range jobs {
		jobs[i] = q.Job(func() { order = append(order, i) })
	}
	hold := make(chan struct{})
	first := q.Job(func() { <-hold })
	first.Schedule() // the worker waits in it while the rest queue up
	for _, j := range jobs {
		j.Schedule()
	}
	close(hold)
	q.Wait()
	if len(order) != len(jobs) {
		t.Fatalf("%d runs of %d jobs", len(order), len(jobs))
	}
	for i, n := range order {
		if n != i {
			t.Fatalf("run %d was job %d", i, n)
		}
	}
}

// TestRunHere: an idle job runs on the caller's goroutine with the
// caller's batch; a running one runs again after, on its worker; a queued
// one runs once.
func TestRunHere(t *testing.T) {
	var flushed, flushes atomic.Int64
	mine := &countBatch{due: 1 << 30, flushed: &flushed, flushes: &flushes}
	q := NewBatched(1, func() Batch { return &countBatch{due: 1 << 30, flushed: new(atomic.Int64), flushes: new(atomic.Int64)} }, func(Batch) {})

	var gotBatch Batch
	var runs atomic.Int32
	idle := q.JobIn(func(b Batch) { gotBatch = b; runs.Add(1) })
	idle.RunHere(mine)
	if runs.Load() != 1 || gotBatch != mine {
		t.Fatalf("an idle job: %d runs, batch %p; want 1 run with the caller's %p", runs.Load(), gotBatch, mine)
	}

	started, release := make(chan struct{}), make(chan struct{})
	var busyRuns atomic.Int32
	busy := q.JobIn(func(Batch) {
		if busyRuns.Add(1) == 1 {
			close(started)
			<-release
		}
	})
	busy.Schedule()
	<-started
	var queuedRuns atomic.Int32
	queued := q.JobIn(func(Batch) { queuedRuns.Add(1) })
	queued.Schedule() // behind busy, on the one worker
	busy.RunHere(mine)
	queued.RunHere(mine)
	if busyRuns.Load() != 1 || queuedRuns.Load() != 0 {
		t.Fatalf("RunHere ran a job that was running (%d runs) or queued (%d runs)", busyRuns.Load(), queuedRuns.Load())
	}
	close(release)
	q.Wait()
	if busyRuns.Load() != 2 || queuedRuns.Load() != 1 {
		t.Fatalf("after: busy ran %d times (want 2: once more for RunHere), queued %d (want 1)", busyRuns.Load(), queuedRuns.Load())
	}
}
