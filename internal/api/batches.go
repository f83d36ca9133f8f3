package api

import (
	"sync"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/runq"
	"github.com/candlewire/candlewire/internal/wsconn"
)

// batchPool keeps the WebSocket writers' batches between their bursts of
// work: a batch holds an io_uring, which is costly to set up per burst.
// A batch the pool does not keep, or that is left when the API is
// dropped, releases its ring when it is collected (wsconn.NewBatch).
type batchPool struct {
	size int // writes per batch; negative: no batching
	keep int // batches kept idle

	mu   sync.Mutex
	free []*wsconn.Batch
	err  error // why batches write at once; set by the first that could not batch
}

func (p *batchPool) get() runq.Batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	if p.size < 0 || p.err != nil {
		return (*wsconn.Batch)(nil) // writes at once
	}
	b, err := wsconn.NewBatch(p.size)
	if err != nil {
		p.err = err
	}
	return b
}

func (p *batchPool) put(rb runq.Batch) {
	b, _ := rb.(*wsconn.Batch)
	if !b.Batched() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.keep {
		p.free = append(p.free, b)
		return
	}
	b.Close()
}

func (p *batchPool) batched() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size > 0 && p.err == nil, p.err
}

// pass runs the hub's fan-outs (hub.Pass) on workers of its own, one per
// processor: a worker queues an update for a part of the subscribers, then
// runs each WebSocket session that gained it and is idle, with the
// worker's batch, while what the session's step reads is still in the
// cache from queueing. Those steps do not wait (what would, a store read or
// a client's op, is left to the writers), so neither do the parts, and a
// Publish, which waits for the last one's, waits for processors only.
type pass struct{ q *runq.Queue }

// inline is the batch of a fan-out part's worker: a session run with it
// does only what does not wait (no store reads, no client ops) and
// schedules itself on the writers for the rest.
type inline struct{ *wsconn.Batch }

func (p pass) Go(part func(serve func(hub.Scheduler))) {
	p.q.JobIn(func(b runq.Batch) {
		wb, _ := b.(*wsconn.Batch)
		part(func(w hub.Scheduler) {
			if s, ok := w.(*wsSession); ok {
				s.job.RunHere(inline{wb})
			} else {
				w.Schedule()
			}
		})
	}).Schedule()
}
