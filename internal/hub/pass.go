package hub

import (
	"sync"
	"sync/atomic"

	"github.com/candlewire/candlewire/internal/market"
)

// Pass runs a fan-out in parts, on goroutines of its own (see SetPass).
type Pass interface {
	// Go runs part soon and returns at once. part queues updates for its
	// subscribers, then tells each that gained one through serve, which
	// must run or schedule it without waiting for a client.
	Go(part func(serve func(Scheduler)))
}

// parts is how many parts a fan-out is split into. Each subscriber belongs
// to one, for its whole life, so its updates are queued by one goroutine
// in order; a part is a few hundred subscribers of ten thousand.
const parts = 64

// passing is the hub's state for fan-outs through a Pass.
type passing struct {
	mu       sync.Mutex // one Publish at a time
	pass     Pass       // nil: Publish queues and schedules itself
	inflight sync.WaitGroup
	slow     atomic.Int64 // subscribers the parts ended as slow, not yet returned by Publish
	next     uint32       // the part of the next subscriber, under the hub's lock
}

// SetPass makes Publish hand its fan-outs to p: each update's subscribers
// are split in parts, and each part is queued for and served by one call
// of p.Go, where what a subscriber's delivery reads is still in the
// processor's cache from queueing it (a fan-out to thousands then touches
// each subscriber once, on one core). Publish then returns once the parts
// are handed over, having waited for the last Publish's to end, so a
// subscriber's updates stay in order; it returns the subscribers ended as
// slow since the last Publish, its own parts' that ended already included.
// A hub has one pass: a later SetPass replaces it (the API that set it last
// serves the parts of every client).
func (h *Hub) SetPass(p Pass) {
	h.passing.mu.Lock()
	defer h.passing.mu.Unlock()
	h.passing.inflight.Wait() // the last pass's parts are done, so nothing overtakes them
	h.passing.pass = p
}

// step is one update to queue for some of a part's subscribers.
type step struct {
	u    *Update
	subs []*Sub
}

// publishParts is Publish through p.
func (h *Hub) publishParts(p Pass, cs []market.Candle) int {
	h.passing.inflight.Wait() // the last Publish's parts are done
	work := h.split(cs)
	for _, steps := range work {
		if len(steps) == 0 {
			continue
		}
		h.passing.inflight.Add(1)
		p.Go(func(serve func(Scheduler)) {
			defer h.passing.inflight.Done()
			h.runPart(steps, serve)
		})
	}
	return int(h.passing.slow.Swap(0))
}

// split gives each part its steps, in the order of cs.
func (h *Hub) split(cs []market.Candle) [][]step {
	var work [][]step
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range cs {
		pl := h.streams[StreamOf(c)]
		if pl == nil && h.all.n == 0 {
			continue
		}
		if work == nil {
			work = make([][]step, parts)
		}
		u := NewUpdate(c)
		pl.split(u, work)
		h.all.split(u, work)
	}
	return work
}

// runPart queues its steps' updates, in order, then serves the
// subscribers that gained any, once each, and ends those that fell too far
// behind.
func (h *Hub) runPart(steps []step, serve func(Scheduler)) {
	var woken []Scheduler
	var slow []*Sub
	var seen map[*Sub]bool // with several steps, a subscriber may gain several updates
	if len(steps) > 1 {
		seen = map[*Sub]bool{}
	}
	for _, st := range steps {
		for _, s := range st.subs {
			wake, ok := s.push(st.u, true)
			switch {
			case !ok:
				slow = append(slow, s)
			case wake == nil, seen[s]:
			default:
				woken = append(woken, wake)
				if seen != nil {
					seen[s] = true
				}
			}
		}
	}
	for _, w := range woken {
		serve(w)
	}
	for _, s := range slow {
		if h.end(s, ErrSlow) {
			h.passing.slow.Add(1)
		}
	}
}
