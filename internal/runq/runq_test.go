package runq

import (
	"sync"
	"sync/atomic"
	"testing"

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
