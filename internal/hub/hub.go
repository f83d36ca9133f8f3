package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/candlewire/candlewire/internal/market"
)

// Why a subscription ended.
var (
	ErrSlow   = errors.New("slow: the client fell too far behind")
	ErrClosed = errors.New("going away: the hub closed")
	ErrEnded  = errors.New("unsubscribed")
)

// Update is one stored candle change on a stream, encoded once for every
// subscriber. Subscribers must not modify it.
type Update struct {
	Stream Stream
	Candle market.Candle // Candle.Seq is the cursor after this update
	JSON   []byte        // the candle in the native wire form
	shared atomic.Pointer[encoding]
}

// encoding is one transport's form of an update, in a short list.
type encoding struct {
	key  string
	b    []byte
	next *encoding
}

// Shared returns build(u) under key, kept with the update: the thousands
// of subscribers of a transport share one encoding (a WebSocket frame, an
// SSE event) instead of one each. Callers racing on the first call may
// each build, but all get the one kept. build must be pure.
func (u *Update) Shared(key string, build func(*Update) []byte) []byte {
	var made *encoding
	for {
		old := u.shared.Load()
		for e := old; e != nil; e = e.next {
			if e.key == key {
				return e.b
			}
		}
		if made == nil {
			made = &encoding{key: key, b: build(u)}
		}
		made.next = old
		if u.shared.CompareAndSwap(old, made) {
			return made.b
		}
	}
}

// Config bounds each subscriber's queue. Zero fields take the defaults.
type Config struct {
	QueueMessages int // updates; default 4096
	QueueBytes    int // encoded bytes; default 4 MiB
}

// Hub is the set of subscribers. The zero value is ready to use, with the
// default Config.
type Hub struct {
	cfg     Config
	mu      sync.RWMutex
	streams map[Stream]*partLists // each followed stream's subscribers (dropped with its last)
	all     partLists             // the subscribers of every stream
	closed  bool
	passing passing
}

// New returns a hub with cfg.
func New(cfg Config) *Hub { return &Hub{cfg: cfg} }

func (h *Hub) limits() (msgs, bytes int) {
	msgs, bytes = h.cfg.QueueMessages, h.cfg.QueueBytes
	if msgs <= 0 {
		msgs = 4096
	}
	if bytes <= 0 {
		bytes = 4 << 20
	}
	return msgs, bytes
}

// Subscribe adds a subscriber of streams (more can be added later).
func (h *Hub) Subscribe(streams ...Stream) *Sub { return h.subscribe(false, streams) }

// SubscribeAll adds a subscriber of every stream.
func (h *Hub) SubscribeAll() *Sub { return h.subscribe(true, nil) }

// SubscribeIn makes s, held by the caller (as a field of a struct that a
// fan-out touches anyway, say), a subscriber of streams, as Subscribe
// does. s must be a zero Sub, and must not be copied after.
func (h *Hub) SubscribeIn(s *Sub, streams ...Stream) { h.subscribeIn(s, false, streams) }

func (h *Hub) subscribe(all bool, streams []Stream) *Sub {
	s := new(Sub)
	h.subscribeIn(s, all, streams)
	return s
}

func (h *Hub) subscribeIn(s *Sub, all bool, streams []Stream) {
	msgs, bytes := h.limits()
	s.h, s.maxMsgs, s.maxBytes, s.ready, s.done = h, msgs, bytes, make(chan struct{}, 1), make(chan struct{})
	h.mu.Lock()
	defer h.mu.Unlock()
	s.part = h.passing.next % parts
	h.passing.next++
	switch {
	case h.closed:
		s.endLocked(ErrClosed)
	case all:
		s.all = true
		h.all.add(s)
	default:
		h.addLocked(s, streams)
	}
}

// addLocked makes s follow streams it does not follow yet.
func (h *Hub) addLocked(s *Sub, streams []Stream) {
	if h.streams == nil {
		h.streams = map[Stream]*partLists{}
	}
	for _, st := range streams {
		pl := h.streams[st]
		if pl == nil {
			pl = new(partLists)
			h.streams[st] = pl
		}
		if pl.add(s) {
			s.streams = append(s.streams, st)
		}
	}
}

// removeLocked makes s stop following streams, dropping a stream's lists
// with its last subscriber.
func (h *Hub) removeLocked(s *Sub, streams []Stream) {
	for _, st := range streams {
		pl := h.streams[st]
		if pl == nil || !pl.remove(s) {
			continue
		}
		if pl.n == 0 {
			delete(h.streams, st)
		}
	}
}

// NewUpdate makes a stored candle an update, encoding it once.
func NewUpdate(c market.Candle) *Update {
	b, _ := c.MarshalJSON() // encodes strings and integers: it cannot fail
	return &Update{Stream: StreamOf(c), Candle: c, JSON: b}
}

// Publish queues stored changes (carrying their sequence numbers, in
// order) for their streams' subscribers. It never blocks on a subscriber;
// it returns how many were ended for being too slow. Changes of streams
// nobody follows are not encoded. One Publish runs at a time. With a Pass
// it hands the fan-out over in parts, after waiting for the last Publish's
// parts (see SetPass).
func (h *Hub) Publish(cs []market.Candle) int {
	h.passing.mu.Lock()
	defer h.passing.mu.Unlock()
	if p := h.passing.pass; p != nil {
		return h.publishParts(p, cs)
	}
	var slow []*Sub
	h.mu.RLock()
	for _, c := range cs {
		pl := h.streams[StreamOf(c)]
		if pl == nil && h.all.n == 0 {
			continue
		}
		u := NewUpdate(c)
		slow = pl.push(u, slow)
		slow = h.all.push(u, slow)
	}
	h.mu.RUnlock()
	n := 0
	for _, s := range slow {
		if h.end(s, ErrSlow) {
			n++
		}
	}
	return n
}

// end removes s and ends it with why; false if it had already ended.
func (h *Hub) end(s *Sub, why error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s, s.streams)
	if s.all {
		h.all.remove(s)
	}
	return s.endLocked(why)
}

// Run is the hub's life as a component of a node: it returns when ctx
// ends, having closed the hub, so every subscriber hears ErrClosed (the
// serving transports tell their clients the server is going away).
func (h *Hub) Run(ctx context.Context) error {
	<-ctx.Done()
	h.Close()
	return nil
}

// Close ends every subscription with ErrClosed; later subscriptions end at
// once. What was published before is queued first (it waits for the
// parts of a Pass), so subscribers still take it before the reason.
func (h *Hub) Close() {
	h.passing.mu.Lock() // no Publish meanwhile: what one queued is queued before the end
	defer h.passing.mu.Unlock()
	h.passing.inflight.Wait() // (parts take h.mu to end a slow subscriber: wait before it)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, pl := range h.streams {
		pl.endLocked()
	}
	h.all.endLocked()
	h.streams, h.all = nil, partLists{}
}
