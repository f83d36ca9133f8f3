package hub

import (
	"sync"

	"github.com/candlewire/candlewire/internal/market"
)

// Sub is one subscription. C is closed when the subscription ends; Err then
// says why.
type Sub struct {
	C      <-chan market.Candle
	c      chan market.Candle
	filter func(market.Candle) bool
	mu     sync.Mutex
	reason string
}

// Reason says why the subscription ended ("" while open).
func (s *Sub) Reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// Hub is a set of subscribers. The zero value is ready to use.
type Hub struct {
	mu      sync.Mutex
	subs    map[*Sub]struct{}
	dropped int64
}

// Subscribe adds a subscriber with a queue of size buf that receives the
// candles for which filter (nil: all) returns true.
func (h *Hub) Subscribe(buf int, filter func(market.Candle) bool) *Sub {
	c := make(chan market.Candle, max(buf, 1))
	s := &Sub{C: c, c: c, filter: filter}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[*Sub]struct{}{}
	}
	h.subs[s] = struct{}{}
	return s
}

// Unsubscribe ends a subscription.
func (h *Hub) Unsubscribe(s *Sub) { h.end(s, "unsubscribed") }

func (h *Hub) end(s *Sub, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	s.mu.Lock()
	s.reason = reason
	s.mu.Unlock()
	close(s.c)
}

// Publish delivers candles to every subscriber without blocking. It returns
// how many subscribers were dropped for being too slow.
func (h *Hub) Publish(cs []market.Candle) int {
	h.mu.Lock()
	var slow []*Sub
	for s := range h.subs {
		for _, c := range cs {
			if s.filter != nil && !s.filter(c) {
				continue
			}
			select {
			case s.c <- c:
				continue
			default:
			}
			slow = append(slow, s)
			break
		}
	}
	h.dropped += int64(len(slow))
	h.mu.Unlock()
	for _, s := range slow {
		h.end(s, "too slow: queue full")
	}
	return len(slow)
}

// Close ends every subscription.
func (h *Hub) Close() {
	h.mu.Lock()
	subs := make([]*Sub, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		h.end(s, "closed")
	}
}
