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

// Job is one unit of recurring work. Create it with Queue.Job or
// Queue.JobIn, or make one part of a struct of the caller's with
// Queue.Init.
type Job struct {
	q     *Queue
	r     Runner
	state atomic.Int32
}

// Runner is a job's work: Run is called with its worker's batch (nil on a
// queue without batches) each time the job is scheduled.
type Runner interface{ Run(Batch) }

// runFunc is a function as a Runner.
type runFunc func(Batch)

func (f runFunc) Run(b Batch) { f(b) }

// Batch is what a worker carries from job to job: work its jobs leave to
// be done together, such as writes sent with one system call. The worker
// flushes it after a job when it is due, and always before it waits or
// ends, so nothing is left in it when the queue is idle.
type Batch interface {
	Due() bool     // it should be flushed now
	Pending() bool // something is left in it
	Flush()
}

// Queue holds scheduled jobs and the workers that run them.
type Queue struct {
	max     int
	get     func() Batch // a worker's batch; nil for none
	put     func(Batch)  // takes it back when the worker ends
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

// NewBatched returns a queue whose workers each carry a batch: from get
// when the worker starts, given back to put when it ends.
func NewBatched(workers int, get func() Batch, put func(Batch)) *Queue {
	q := New(workers)
	q.get, q.put = get, put
	return q
}

// Job returns a job that calls run each time it is scheduled.
func (q *Queue) Job(run func()) *Job { return q.JobIn(func(Batch) { run() }) }

// JobIn returns a job that calls run with its worker's batch (nil on a
// queue without batches) each time it is scheduled.
func (q *Queue) JobIn(run func(Batch)) *Job { return &Job{q: q, r: runFunc(run)} }

// Init makes j, held by the caller (as a field of the struct r runs on,
// say, so that a worker finds the two together in memory), a job of q that
// runs r each time it is scheduled. j must not have been scheduled yet.
func (q *Queue) Init(j *Job, r Runner) { j.q, j.r = q, r }

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

// RunHere runs the job on the calling goroutine, with the caller's batch
// b, if it is idle; otherwise it schedules it. It is for a goroutine that
// wakes many jobs in turn and has just touched what each one reads (a
// publisher's pass over its subscribers): running a job there is cheaper
// than a worker finding it cold in memory. The job's Runner must not wait
// when run this way; one that would, schedules itself and returns.
func (j *Job) RunHere(b Batch) {
	if !j.state.CompareAndSwap(idle, running) {
		j.Schedule()
		return
	}
	j.q.run(j, b)
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

// pop returns the next job. When there is none it returns nil, having
// ended the worker if end is set. A worker takes one job at a time: a job
// it held in hand would wait behind one that blocks (a session reading the
// store), where another worker could have run it.
func (q *Queue) pop(end bool) *Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.jobs) {
		if !end {
			return nil
		}
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
	var b Batch
	if q.get != nil {
		b = q.get()
		defer func() {
			if b.Pending() { // empty unless a job panics: what it batched still goes as the process ends
				b.Flush()
			}
			q.put(b)
		}()
	}
	for {
		j := q.pop(b == nil || !b.Pending())
		if j == nil && b != nil && b.Pending() {
			b.Flush() // before the worker waits: what its jobs left goes now
			continue
		}
		if j == nil {
			return
		}
		j.state.Store(running)
		q.run(j, b)
	}
}

// run runs j, whose state is running, once, queues it again if it was
// scheduled meanwhile, and sends the batch when it is due.
func (q *Queue) run(j *Job, b Batch) {
	j.r.Run(b)
	if !j.state.CompareAndSwap(running, idle) { // scheduled while running
		j.state.Store(queued)
		q.push(j)
	}
	if b != nil && b.Due() {
		b.Flush()
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
