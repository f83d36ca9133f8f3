package runq

import (
	"sync"
	"sync/atomic"
)

// Job states.
const (
	idle    = iota // not queued, not running
	queued         // in the queue
	running        // a worker runs it
	again          // running, and scheduled again meanwhile
)

// Job is one unit of recurring work. Create it with Queue.Job.
type Job struct {
	q     *Queue
	run   func()
	state atomic.Int32
}

// Queue holds scheduled jobs and the workers that run them.
type Queue struct {
	max     int
	mu      sync.Mutex
	jobs    []*Job // scheduled, in order
	head    int
	workers int
	idle    sync.Cond // signalled when the last worker exits
}

// New returns a queue run by at most workers goroutines (at least 1).
func New(workers int) *Queue {
	q := &Queue{max: max(workers, 1)}
	q.idle.L = &q.mu
	return q
}

// Job returns a job that calls run each time it is scheduled.
func (q *Queue) Job(run func()) *Job { return &Job{q: q, run: run} }

// Schedule makes the job run soon: now if a worker is free, after its
// current run if it is running. It never blocks.
func (j *Job) Schedule() {
	for {
		switch s := j.state.Load(); s {
		case idle:
			if j.state.CompareAndSwap(idle, queued) {
				j.q.push(j)
				return
			}
		case running:
			if j.state.CompareAndSwap(running, again) {
				return
			}
		default: // queued or again: it will run
			return
		}
	}
}

func (q *Queue) push(j *Job) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	start := q.workers < q.max && len(q.jobs)-q.head > q.workers
	if start {
		q.workers++
	}
	q.mu.Unlock()
	if start {
		go q.work()
	}
}

// pop returns the next job, or nil after ending the worker when there is
// none.
func (q *Queue) pop() *Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.jobs) {
		q.jobs, q.head = q.jobs[:0], 0
		if q.workers--; q.workers == 0 {
			q.idle.Broadcast()
		}
		return nil
	}
	j := q.jobs[q.head]
	q.jobs[q.head] = nil
	q.head++
	if q.head > 1024 && q.head*2 > len(q.jobs) { // reuse the front of the slice
		n := copy(q.jobs, q.jobs[q.head:])
		clear(q.jobs[n:])
		q.jobs, q.head = q.jobs[:n], 0
	}
	return j
}

func (q *Queue) work() {
	for j := q.pop(); j != nil; j = q.pop() {
		j.state.Store(running)
		j.run()
		if !j.state.CompareAndSwap(running, idle) { // scheduled while running
			j.state.Store(queued)
			q.push(j)
		}
	}
}

// Wait blocks until no worker runs: every scheduled job has run and none
// is queued. Jobs scheduled meanwhile are waited for too.
func (q *Queue) Wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.workers > 0 {
		q.idle.Wait()
	}
}
