package wsconn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/candlewire/candlewire/internal/uring"
)

// newBatch is a batch of size writes; the tests of the batched path skip
// where io_uring is not available (the plain one is TestPlainBatchWritesAtOnce).
func newBatch(t *testing.T, size int) *Batch {
	t.Helper()
	b, err := NewBatch(size)
	if !b.Batched() && !uring.Available() {
		t.Skipf("no io_uring here: %v", err)
	}
	if !b.Batched() {
		t.Fatalf("io_uring sets up here, but the batch does not use it: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// readText reads n text frames from nc.
func readText(t *testing.T, nc net.Conn, n int) []string {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	for range n {
		h, err := ws.ReadHeader(nc)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(nc, p); err != nil {
			t.Fatal(err)
		}
		if h.OpCode == ws.OpClose {
			code, reason := ws.ParseCloseFrameData(p)
			got = append(got, fmt.Sprintf("close %d %s", code, reason))
			continue
		}
		got = append(got, string(p))
	}
	return got
}

// TestBatchKeepsOrder: writes in a batch reach each client when it is
// flushed, in order with the writes made while they waited in it, and a
// copied buffer may be reused at once.
func TestBatchKeepsOrder(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	b := newBatch(t, 4)
	var clients []net.Conn
	var conns []*Conn
	for range 3 {
		clients = append(clients, rawClient(t, r))
		e := <-r.conns
		conns = append(conns, e.c)
		defer closedWith(t, e)
	}
	scratch := AppendText(nil, []byte("copied"))
	for i, c := range conns {
		if err := c.WriteIn(b, AppendText(nil, []byte(fmt.Sprint("first ", i))), false); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteIn(b, scratch, true); err != nil { // the same conn again: queued behind the first
			t.Fatal(err)
		}
		if err := c.Write(AppendText(nil, []byte("direct"))); err != nil {
			t.Fatal(err)
		}
	}
	copy(scratch[2:], "XXXXXX") // reused before the flush
	if !b.Pending() || len(b.conns) != 3 {
		t.Fatalf("%d writes in the batch, want 3 (one per connection)", len(b.conns))
	}
	b.Flush()
	for i, nc := range clients {
		got := readText(t, nc, 3)
		if want := []string{fmt.Sprint("first ", i), "copied", "direct"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("client %d read %q, want %q", i, got, want)
		}
	}
	for _, nc := range clients {
		nc.Close()
	}
}

// oneClient is a batch of four and one connection whose client the test
// reads; at the end the client goes and the connection's end is awaited.
func oneClient(t *testing.T) (*Batch, net.Conn, *echo) {
	t.Helper()
	r := newRig(t, Config{})
	b := newBatch(t, 4)
	nc := rawClient(t, r)
	e := <-r.conns
	t.Cleanup(func() { nc.Close(); closedWith(t, e) })
	return b, nc, e
}

// TestBatchCopies: a buffer written with copy set goes out as it was,
// though the caller reuses it before the flush; one written without copy
// is sent from where it is.
func TestBatchCopies(t *testing.T) {
	t.Parallel()
	b, nc, e := oneClient(t)
	scratch := AppendText(nil, []byte("original"))
	if err := e.c.WriteIn(b, scratch, true); err != nil || !b.Pending() {
		t.Fatalf("%v, pending %v", err, b.Pending())
	}
	copy(scratch[2:], "reusedXX")
	b.Flush()
	if got := readText(t, nc, 1); got[0] != "original" {
		t.Fatalf("read %q, want the bytes as written", got)
	}
}

// TestBatchWritingUntilSent: while its frame waits in a batch the
// connection reports Writing, so a session does not pile more behind it,
// and hears Writable once the batch is sent.
func TestBatchWritingUntilSent(t *testing.T) {
	t.Parallel()
	b, nc, e := oneClient(t)
	if err := e.c.WriteIn(b, AppendText(nil, []byte("one")), false); err != nil {
		t.Fatal(err)
	}
	if !e.c.Writing() {
		t.Fatal("not Writing while its frame waits in the batch")
	}
	b.Flush()
	select {
	case <-e.writable:
	case <-time.After(10 * time.Second):
		t.Fatal("no Writable after the batch was sent")
	}
	if e.c.Writing() {
		t.Fatal("still Writing after the batch was sent")
	}
	if got := readText(t, nc, 1); got[0] != "one" {
		t.Fatalf("read %q", got)
	}
}

// TestBatchRingFails: when the ring fails, every frame of the batch still
// reaches its client once (the kernel took none, so they are written one
// by one), and the batch writes at once from then on.
func TestBatchRingFails(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	b := newBatch(t, 4)
	var clients []net.Conn
	for i := range 3 {
		nc := rawClient(t, r)
		clients = append(clients, nc)
		e := <-r.conns
		defer closedWith(t, e)
		defer nc.Close()
		if err := e.c.WriteIn(b, AppendText(nil, []byte(fmt.Sprint("frame ", i))), false); err != nil {
			t.Fatal(err)
		}
	}
	b.ring.Close() // its next submission fails: nothing is taken
	b.Flush()
	if b.Batched() || b.Err() == nil {
		t.Fatalf("batched %v, err %v after the ring failed", b.Batched(), b.Err())
	}
	for i, nc := range clients {
		if got := readText(t, nc, 1); got[0] != fmt.Sprint("frame ", i) {
			t.Fatalf("client %d read %q", i, got)
		}
		nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, _ := nc.Read(make([]byte, 16)); n > 0 {
			t.Fatalf("client %d got %d more bytes: a frame sent twice", i, n)
		}
	}
}

// TestBatchFull: a full batch writes at once, as Write does.
func TestBatchFull(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	b := newBatch(t, 2)
	var clients []net.Conn
	for i := range b.ring.Entries() + 1 {
		nc := rawClient(t, r)
		clients = append(clients, nc)
		e := <-r.conns
		defer closedWith(t, e)
		defer nc.Close()
		if err := e.c.WriteIn(b, AppendText(nil, []byte(fmt.Sprint(i))), false); err != nil {
			t.Fatal(err)
		}
	}
	if !b.Due() {
		t.Fatal("a full batch is not due")
	}
	last := clients[len(clients)-1]
	if got := readText(t, last, 1); got[0] != fmt.Sprint(len(clients)-1) {
		t.Fatalf("the write past a full batch: %q", got)
	}
	b.Flush()
	for i, nc := range clients[:len(clients)-1] {
		if got := readText(t, nc, 1); got[0] != fmt.Sprint(i) {
			t.Fatalf("client %d: %q", i, got)
		}
	}
}

// TestBatchCloseWaits: a connection closed while its write waits in a
// batch keeps its socket until the batch is sent (its descriptor cannot be
// reused and written by mistake), then closes it; a close handshake
// started meanwhile follows the write.
func TestBatchCloseWaits(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	b := newBatch(t, 4)
	rawClient(t, r)
	cb := <-r.conns // each server side taken before the next client dials: under load they may come in either order
	handshake := rawClient(t, r)
	ch := <-r.conns
	for _, e := range []*echo{cb, ch} {
		if err := e.c.WriteIn(b, AppendText(nil, []byte("before")), false); err != nil {
			t.Fatal(err)
		}
	}
	cb.c.mu.Lock()
	cb.c.closeSocketLocked() // as the reader does when the connection breaks
	cb.c.mu.Unlock()
	ch.c.Close(StatusGoingAway, "going away")
	if raw, _ := cb.c.nc.(*net.TCPConn).SyscallConn(); raw.Control(func(uintptr) {}) != nil {
		t.Fatal("the socket was closed with its write still in the batch")
	}
	b.Flush()
	if raw, _ := cb.c.nc.(*net.TCPConn).SyscallConn(); raw.Control(func(uintptr) {}) == nil {
		t.Fatal("the socket is still open after the batch was sent")
	}
	if got := readText(t, handshake, 2); fmt.Sprint(got) != "[before close 1001 going away]" {
		t.Fatalf("read %q, want the write, then the close frame", got)
	}
	ws.WriteFrame(handshake, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(StatusGoingAway, "")))) //nolint:errcheck // the answer
	closedWith(t, ch)
	closedWith(t, cb)
}

// TestBatchToStalledClient: what a stalled client's socket does not take
// of a batched write waits as after Write, and the client is closed as
// slow with the frame on the wire whole.
func TestBatchToStalledClient(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{WriteTimeout: time.Second, CloseTimeout: 20 * time.Second})
	b := newBatch(t, 4)
	nc := stalledClient(t, r)
	e := <-r.conns
	const size = 32 << 20 // more than the socket takes
	big := AppendText(nil, bytes.Repeat([]byte("c"), size))
	if err := e.c.WriteIn(b, big, false); err != nil {
		t.Fatal(err)
	}
	b.Flush()
	if !e.c.Writing() {
		t.Fatal("the rest of a partly sent write does not wait for the client")
	}
	waitClosing(t, e.c, 20*time.Second)
	h, err := ws.ReadHeader(nc)
	if err != nil || h.Length != size {
		t.Fatalf("%+v %v", h, err)
	}
	if _, err := io.CopyN(io.Discard, nc, h.Length); err != nil {
		t.Fatalf("the frame on the wire was cut: %v", err)
	}
	if got := readText(t, nc, 1); got[0] != "close 4008 slow" {
		t.Fatalf("after the frame: %q", got)
	}
	ws.WriteFrame(nc, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(StatusSlow, "")))) //nolint:errcheck // the answer
	var ce *CloseError
	if err := closedWith(t, e); !errors.As(err, &ce) || ce.Code != StatusSlow {
		t.Fatalf("Closed(%v), want 4008 slow", err)
	}
}

// TestPlainBatchWritesAtOnce: a batch without io_uring (or a nil one)
// writes at once, as Write does.
func TestPlainBatchWritesAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	nc := rawClient(t, r)
	e := <-r.conns
	for _, b := range []*Batch{nil, {}} {
		if err := e.c.WriteIn(b, AppendText(nil, []byte("now")), true); err != nil || b.Pending() {
			t.Fatalf("%v, pending %v", err, b.Pending())
		}
		if got := readText(t, nc, 1); got[0] != "now" {
			t.Fatalf("%q", got)
		}
		b.Flush()
		if b.Due() {
			t.Fatal("an empty batch is due")
		}
	}
	nc.Close()
	closedWith(t, e)
}

// TestBatchDueAfterWait: a batch that is not full becomes due once its
// oldest write has waited batchWait, within dueEvery calls (Due reads the
// clock on some calls only), and not before.
func TestBatchDueAfterWait(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	b := newBatch(t, 8)
	nc := rawClient(t, r)
	e := <-r.conns
	if err := e.c.WriteIn(b, AppendText(nil, []byte("later")), true); err != nil {
		t.Fatal(err)
	}
	b.first = time.Now().Add(time.Hour) // not due, however slowly the calls below run
	for i := range 4 * dueEvery {
		if b.Due() {
			t.Fatalf("due at call %d, before its write waited", i)
		}
	}
	b.first = time.Now().Add(-batchWait)
	due := 0
	for range dueEvery {
		if b.Due() {
			due++
		}
	}
	if due == 0 {
		t.Fatalf("not due in %d calls after its write waited %v", dueEvery, batchWait)
	}
	b.Flush()
	if got := readText(t, nc, 1); got[0] != "later" {
		t.Fatalf("%q", got)
	}
	nc.Close()
	closedWith(t, e)
}
