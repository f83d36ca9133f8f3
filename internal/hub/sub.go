package hub

import (
	"context"
	"sync"
)

// binKey identifies a bin in a queue, for conflation.
type binKey struct {
	stream Stream
	open   int64
}

// Sub is one subscriber: its streams and its bounded queue. Next is called
// from one goroutine, the subscriber's own. The fields a push touches come
// first, together: a fan-out touches thousands of subscribers in turn.
type Sub struct {
	mu    sync.Mutex
	queue []*Update // nil entries are updates replaced by a newer one
	head  int       // first entry not yet taken
	live  int       // non-nil entries from head on
	bytes int
	at    map[binKey]int // queued position of each bin, once the queue is long; nil while it is short
	err   error          // why it ended; nil while open
	woken Scheduler      // told when the queue gains an entry or it ends; set before use
	part  uint32         // of a fan-out through a Pass

	maxMsgs, maxBytes int
	h                 *Hub
	streams           []Stream      // under h.mu
	all               bool          // a subscriber of every stream; set once, under h.mu
	ready             chan struct{} // signalled when the queue gains an entry
	done              chan struct{} // closed when it ends
}

// Scheduler is told that a subscriber has something to take (a job of
// package runq is one).
type Scheduler interface{ Schedule() }

// OnReady makes f's Schedule be called whenever an update is queued or
// the subscription ends, for subscribers driven by a scheduler rather than
// a goroutine of their own; Ready is then not signalled (a fan-out to
// thousands saves a channel send each), so take updates with TryNext.
// Schedule must not block: it runs under the hub's and the subscriber's
// locks. Through a Pass, it is not called for an update queued within the
// bounds: the scheduler is handed to the pass's serve instead. Set it
// before adding streams.
func (s *Sub) OnReady(f Scheduler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.woken = f
}

// push queues u, replacing a queued update of the same bin; ok is false
// when the queue is over its bounds (the caller ends the subscriber). With
// pass set, a subscriber told through a Scheduler is not told but returned,
// for the caller to serve after the lock is let go (unless the queue is over
// its bounds: it is told then, and ended by the caller).
func (s *Sub) push(u *Update, pass bool) (wake Scheduler, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, true
	}
	k := binKey{u.Stream, u.Candle.OpenTime}
	if i, ok := s.find(k); ok {
		s.bytes -= len(s.queue[i].JSON)
		s.queue[i] = nil
		s.live--
	}
	if s.at != nil {
		s.at[k] = len(s.queue)
	}
	s.queue = append(s.queue, u)
	s.live++
	s.bytes += len(u.JSON)
	s.compact()
	ok = s.live <= s.maxMsgs && s.bytes <= s.maxBytes
	switch {
	case s.woken != nil && pass && ok:
		return s.woken, true
	case s.woken != nil:
		s.woken.Schedule()
	default:
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
	return nil, ok
}

// shortQueue is the queue length up to which conflation scans the queue
// instead of keeping an index: the common case, cheaper than a map.
const shortQueue = 16

// find returns the queued position of bin k.
func (s *Sub) find(k binKey) (int, bool) {
	if s.at == nil && s.live >= shortQueue {
		s.at = make(map[binKey]int, 2*shortQueue)
		for i := s.head; i < len(s.queue); i++ {
			if u := s.queue[i]; u != nil {
				s.at[binKey{u.Stream, u.Candle.OpenTime}] = i
			}
		}
	}
	if s.at != nil {
		i, ok := s.at[k]
		return i, ok
	}
	for i := s.head; i < len(s.queue); i++ {
		if u := s.queue[i]; u != nil && u.Candle.OpenTime == k.open && u.Stream == k.stream {
			return i, true
		}
	}
	return 0, false
}

// take removes the first queued update, if any.
func (s *Sub) take() (*Update, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeLocked()
}

func (s *Sub) takeLocked() (*Update, bool) {
	for s.head < len(s.queue) {
		u := s.queue[s.head]
		s.queue[s.head] = nil
		s.head++
		if u == nil {
			continue
		}
		if s.at != nil {
			delete(s.at, binKey{u.Stream, u.Candle.OpenTime})
		}
		s.live--
		s.bytes -= len(u.JSON)
		s.compact()
		return u, true
	}
	return nil, false
}

// compact keeps the queue's slice proportional to what it holds: taken
// entries and the holes left by conflation are squeezed out once they are
// most of it, so a stalled reader of a conflated stream holds one entry per
// bin, not one per update.
func (s *Sub) compact() {
	if s.head == len(s.queue) {
		s.queue, s.head, s.at = s.queue[:0], 0, nil // everything taken
		return
	}
	if len(s.queue) < 64 || len(s.queue) < 2*s.live {
		return
	}
	n := 0
	for _, u := range s.queue[s.head:] {
		if u != nil {
			s.queue[n] = u
			if s.at != nil {
				s.at[binKey{u.Stream, u.Candle.OpenTime}] = n
			}
			n++
		}
	}
	clear(s.queue[n:])
	s.queue, s.head = s.queue[:n], 0
}

// Next returns the next update, waiting for one. After the subscription
// ends, queued updates are still returned, then its reason (ErrSlow,
// ErrClosed, ErrEnded); a slow subscriber gets the reason at once.
func (s *Sub) Next(ctx context.Context) (*Update, error) {
	for {
		if err := s.slowErr(); err != nil {
			return nil, err
		}
		if u, ok := s.take(); ok {
			return u, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.ready:
		case <-s.done:
			if u, ok := s.take(); ok {
				return u, nil
			}
			return nil, s.Err()
		}
	}
}

// TryNext returns a queued update without waiting. When there is none,
// err says why the subscription ended (nil while it is open); a slow
// subscriber gets ErrSlow at once.
func (s *Sub) TryNext() (u *Update, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == ErrSlow {
		return nil, ErrSlow
	}
	if u, ok := s.takeLocked(); ok {
		return u, nil
	}
	return nil, s.err
}

func (s *Sub) slowErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == ErrSlow {
		return ErrSlow
	}
	return nil
}

// Err says why the subscription ended; nil while it is open.
func (s *Sub) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Ready is signalled when an update is queued; after it, take every
// queued update with TryNext.
func (s *Sub) Ready() <-chan struct{} { return s.ready }

// Done is closed when the subscription ends.
func (s *Sub) Done() <-chan struct{} { return s.done }

// Add subscribes to more streams (a subscriber of every stream follows
// them already).
func (s *Sub) Add(streams ...Stream) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.Err() == nil && !s.all {
		s.h.addLocked(s, streams)
	}
}

// Remove unsubscribes from streams; updates of them already queued stay.
func (s *Sub) Remove(streams ...Stream) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.removeLocked(s, streams)
	keep := s.streams[:0]
	for _, st := range s.streams {
		drop := false
		for _, r := range streams {
			drop = drop || r == st
		}
		if !drop {
			keep = append(keep, st)
		}
	}
	s.streams = keep
}

// Streams returns the subscribed streams.
func (s *Sub) Streams() []Stream {
	s.h.mu.RLock()
	defer s.h.mu.RUnlock()
	return append([]Stream(nil), s.streams...)
}

// Close ends the subscription (ErrEnded).
func (s *Sub) Close() { s.h.end(s, ErrEnded) }

// endLocked ends the subscription with why, under the hub's lock; false if
// it had already ended.
func (s *Sub) endLocked(why error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false
	}
	s.err = why
	if why == ErrSlow { // a slow subscriber's backlog is dropped: it resumes from its cursor
		s.queue, s.head, s.live, s.bytes, s.at = nil, 0, 0, 0, nil
	}
	close(s.done)
	if s.woken != nil {
		s.woken.Schedule()
	}
	return true
}
