package wsconn

import (
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/candlewire/candlewire/internal/uring"
)

// batchWait bounds how long a write waits in a batch that is not full.
const batchWait = time.Millisecond

// Batch gathers writes to many connections and sends them with one system
// call (package uring), for a fan-out that writes one frame to each of
// thousands of clients. It belongs to one goroutine at a time (a writer
// that runs many sessions in turn). A connection with a write in a batch
// queues later writes behind it, as behind a write that waits for the
// client, and its socket stays open until the batch is sent.
//
// Where io_uring is not available a Batch writes at once, as Write does.
type Batch struct {
	ring  *uring.Ring // nil: writes at once
	err   error       // why ring was given up, if it was
	conns []*Conn
	bufs  [][]byte
	fds   []int
	res   []int32
	arena []byte    // copies of buffers the caller reuses
	first time.Time // when the oldest write was added
	asked int       // Due calls since the clock was last read
}

// NewBatch returns a batch of up to size writes; it writes at once where
// io_uring cannot be used, and says why in err (the batch works either
// way). Its ring is released by Close, or when the batch is collected.
func NewBatch(size int) (*Batch, error) {
	r, err := uring.New(size)
	if err != nil {
		return &Batch{}, fmt.Errorf("writes one system call each: %w", err)
	}
	b := &Batch{ring: r}
	runtime.AddCleanup(b, func(r *uring.Ring) { r.Close() }, r) //nolint:errcheck // nothing is in flight in a batch nobody holds
	return b, nil
}

// Batched reports whether writes are gathered (io_uring is in use).
func (b *Batch) Batched() bool { return b != nil && b.ring != nil }

// Due reports whether the batch should be sent now: it is full, or its
// oldest write has waited batchWait. It reads the clock on every eighth
// call only (a fan-out asks after every session it runs, in microseconds),
// so a batch past batchWait may wait for up to seven more sessions' steps.
func (b *Batch) Due() bool {
	if !b.Pending() {
		return false
	}
	if len(b.conns) >= b.ring.Entries() {
		return true
	}
	if b.asked++; b.asked < dueEvery {
		return false
	}
	b.asked = 0
	return time.Since(b.first) >= batchWait
}

// dueEvery is how many calls of Due read the clock once.
const dueEvery = 8

// Pending reports whether writes wait in the batch.
func (b *Batch) Pending() bool { return b != nil && len(b.conns) > 0 }

// WriteIn is Write through batch b: the frames go out when b is flushed.
// With copy set, p is copied, so the caller may reuse it at once;
// otherwise p must stay unchanged until the flush. A full batch, or a
// connection that cannot take part (TLS, a write already waiting), writes
// as Write does.
func (c *Conn) WriteIn(b *Batch, p []byte, copy bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing != nil {
		return ErrClosing
	}
	if !b.Batched() || c.fd < 0 || c.closed || c.writing.Load() || c.inBatch || len(c.out) > 0 || len(b.conns) >= b.ring.Entries() || len(p) == 0 {
		return c.writeLocked(p)
	}
	if copy {
		start := len(b.arena)
		b.arena = append(b.arena, p...)
		p = b.arena[start:len(b.arena):len(b.arena)]
	}
	if len(b.conns) == 0 {
		b.first = time.Now()
	}
	c.inBatch = true
	c.batched.Store(true)
	b.conns, b.bufs, b.fds = append(b.conns, c), append(b.bufs, p), append(b.fds, c.fd)
	return nil
}

// Flush sends what the batch holds, one system call for all, and settles
// each connection: what a socket did not take waits for its client as
// after Write.
func (b *Batch) Flush() {
	if !b.Pending() {
		return
	}
	n := len(b.conns)
	b.res = append(b.res[:0], make([]int32, n)...)
	if err := b.ring.Send(b.fds, b.bufs, b.res); err != nil {
		// What the kernel never took is -EAGAIN (written again, one by one),
		// what it took without an outcome -ECANCELED (that client is closed
		// and resumes from its cursor: a frame is never sent twice). The
		// ring is not used again.
		b.ring.Close() //nolint:errcheck // given up
		b.ring, b.err = nil, err
	}
	for i, c := range b.conns {
		c.settle(b.bufs[i], b.res[i])
	}
	clear(b.conns)
	clear(b.bufs)
	b.conns, b.bufs, b.fds = b.conns[:0], b.bufs[:0], b.fds[:0]
	if cap(b.arena) > maxArena { // a burst's copies are not kept
		b.arena = nil
	}
	b.arena = b.arena[:0]
}

// maxArena is the most copy space a batch keeps between flushes.
const maxArena = 1 << 20

// Err says why the batch stopped using io_uring, if it did (a failed
// submission); its writes are then each a write(2).
func (b *Batch) Err() error {
	if b == nil {
		return nil
	}
	return b.err
}

// Close flushes the batch and releases its ring.
func (b *Batch) Close() {
	b.Flush()
	if b.ring != nil {
		b.ring.Close() //nolint:errcheck // nothing is in flight
		b.ring = nil   // (the cleanup's Close then does nothing)
	}
}

// settle ends the connection's part in a batch: res is what the socket
// took of p, or minus an error number. What it did not take, and what was
// written meanwhile, goes out as after a write that had to wait; a caller
// told Writing meanwhile hears Writable.
func (c *Conn) settle(p []byte, res int32) {
	if c.settleLocked(p, res) {
		c.h.Writable()
	}
}

// settleLocked is settle under mu; true when Writable is owed.
func (c *Conn) settleLocked(p []byte, res int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inBatch = false
	c.batched.Store(false)
	owed := c.askedInBatch.Swap(false)
	if c.closed { // closed meanwhile: the close waited for the batch
		c.nc.Close()
		c.out = nil
		return false
	}
	n := 0
	switch {
	case res >= 0:
		n = int(res)
	case res == -int32(syscall.EAGAIN) || res == -int32(syscall.EINTR):
	default: // an error, or a send whose outcome is unknown (-ECANCELED)
		c.closeSocketLocked() // the reader sees it and ends the connection
		c.out = nil
		return false
	}
	if n == len(p) && len(c.out) == 0 {
		if c.closing != nil {
			c.shutdownLocked()
			return false
		}
		return owed
	}
	rest := p[n:]
	if c.closing != nil && c.closing.Code == StatusSlow { // ended as slow meanwhile: only the frame on the wire goes before the close frame
		rest = p[n:frameEnd(p, 0, n)]
	}
	c.out = append(append([]byte(nil), rest...), c.out...)
	c.cut = frameEnd(p, 0, n) - n
	c.writing.Store(true)
	go c.flush() // calls Writable when it is done
	return false
}
