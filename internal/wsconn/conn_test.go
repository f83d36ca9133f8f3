package wsconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo is a Handler that writes every message back and records the end.
type echo struct {
	c        *Conn
	writable chan struct{}
	closed   chan error
}

func (e *echo) Message(data []byte) {
	if string(data) == "close please" {
		e.c.Close(4000, "asked to")
		return
	}
	e.c.Write(AppendText(nil, data)) //nolint:errcheck // the test reads what arrives
}
func (e *echo) Writable() {
	select {
	case e.writable <- struct{}{}:
	default:
	}
}
func (e *echo) Closed(err error) { e.closed <- err }

// rig is a server of echo connections.
type rig struct {
	srv   *httptest.Server
	conns chan *echo
}

func newRig(t *testing.T, cfg Config) *rig {
	u := NewUpgrader(cfg)
	r := &rig{conns: make(chan *echo, 16)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := u.Upgrade(w, req)
		if err != nil {
			return
		}
		e := &echo{c: c, writable: make(chan struct{}, 1), closed: make(chan error, 1)}
		c.Serve(e)
		r.conns <- e
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) url() string { return "ws" + strings.TrimPrefix(r.srv.URL, "http") }

func closedWith(t *testing.T, e *echo) error {
	t.Helper()
	select {
	case err := <-e.closed:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Closed was not called")
		return nil
	}
}

func TestEchoPingAndClose(t *testing.T) {
	r := newRig(t, Config{})
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, r.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := <-r.conns
	go func() { // the client's reader: pongs are handled while reading
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("client ping: %v", err)
	}
	if err := e.c.Ping(); err != nil {
		t.Fatalf("server ping: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.c.waiting.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.c.Ping(); err != nil {
		t.Fatalf("second ping after the pong: %v", err)
	}
	c.Close(websocket.StatusNormalClosure, "bye") //nolint:errcheck // checked on the server side
	var ce *CloseError
	if err := closedWith(t, e); !errors.As(err, &ce) || !ce.Remote || ce.Code != StatusNormal {
		t.Fatalf("Closed(%v), want the client's normal close", err)
	}
}

func TestServerCloseCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		send []byte
		want websocket.StatusCode
	}{
		{"handler closes", []byte("close please"), 4000},
		{"message too big", bytes.Repeat([]byte("x"), 2000), websocket.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{MaxMessage: 1000})
			ctx := context.Background()
			c, _, err := websocket.Dial(ctx, r.url(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			e := <-r.conns
			c.Write(ctx, websocket.MessageText, tc.send) //nolint:errcheck // the read below tells
			_, _, err = c.Read(ctx)
			if got := websocket.CloseStatus(err); got != tc.want {
				t.Fatalf("client read %v (status %d), want %d", err, got, tc.want)
			}
			var ce *CloseError
			if err := closedWith(t, e); !errors.As(err, &ce) || ce.Remote || ce.Code != ws.StatusCode(tc.want) {
				t.Fatalf("Closed(%v), want the server's close %d", err, tc.want)
			}
		})
	}
}

// TestMaxMessageIs64KiB: by default a client message may be 64 KiB, not
// a byte more (close 1009).
func TestMaxMessageIs64KiB(t *testing.T) {
	r := newRig(t, Config{})
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, r.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	e := <-r.conns
	for _, n := range []int{64 << 10, 64<<10 + 1} {
		c.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("x"), n)) //nolint:errcheck // the read below tells
		_, data, err := c.Read(ctx)
		switch {
		case n == 64<<10 && len(data) != n:
			t.Fatalf("a message of 64 KiB: %d bytes echoed, %v", len(data), err)
		case n > 64<<10 && websocket.CloseStatus(err) != websocket.StatusMessageTooBig:
			t.Fatalf("a message of 64 KiB + 1: %v, want close 1009", err)
		}
	}
	closedWith(t, e)
}

func TestForeignOriginRefused(t *testing.T) {
	r := newRig(t, Config{Origins: []string{"*.example.com"}})
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"https://app.example.com", true},
		{"https://evil.test", false},
		{r.srv.URL, true}, // the server's own host
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		c, resp, err := websocket.Dial(context.Background(), r.url(), &websocket.DialOptions{HTTPHeader: h})
		if tc.ok != (err == nil) {
			t.Fatalf("origin %q: %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if !tc.ok && resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %q: status %d, want 403", tc.origin, resp.StatusCode)
		}
		if c != nil {
			e := <-r.conns
			c.Close(websocket.StatusNormalClosure, "") //nolint:errcheck // test over
			closedWith(t, e)
		}
	}
}

// rawClient opens a WebSocket on a plain socket that the test reads (or
// does not read) itself.
func rawClient(t *testing.T, r *rig) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(r.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	// Held to the test's end: a client dropped unreferenced would be
	// closed by its finalizer at a garbage collection, under the test.
	t.Cleanup(func() { nc.Close() })
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	buf := make([]byte, 1024)
	n, err := nc.Read(buf)
	if err != nil || !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101")) {
		t.Fatalf("handshake: %q %v", buf[:n], err)
	}
	return nc
}

// TestStalledClient fills the socket of a client that never reads: the
// writes go on without blocking the caller, the backlog is bounded, and
// the connection ends as slow (4008) once the backlog outgrows it.
func TestStalledClient(t *testing.T) {
	r := newRig(t, Config{WriteTimeout: time.Minute}) // the backlog (default, 1 MiB) ends it, not the write timeout
	nc := rawClient(t, r)
	defer nc.Close()
	e := <-r.conns
	frame := AppendText(nil, bytes.Repeat([]byte("c"), 1000))
	start := time.Now()
	var err error
	writes, waiting := 0, 0
	for ; err == nil && writes < 100_000; writes++ {
		e.c.mu.Lock()
		waiting = len(e.c.out)
		e.c.mu.Unlock()
		err = e.c.Write(frame)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("%d writes took %v: a write blocked", writes, time.Since(start))
	}
	if !errors.Is(err, ErrBacklog) || waiting > 1<<20 || waiting+len(frame) <= 1<<20 {
		t.Fatalf("after %d writes, %d bytes waiting: %v, want ErrBacklog once more than 1 MiB would wait", writes, waiting, err)
	}
	nc.Close() // the blocked write fails now
	var ce *CloseError
	if err := closedWith(t, e); !errors.As(err, &ce) || ce.Code != StatusSlow || ce.Reason != "slow" || ce.Remote {
		t.Fatalf("Closed(%v), want the server's close 4008 slow", err)
	}
}

// TestSlowClientCatchesUp stalls a client briefly: the waiting write
// finishes when it reads, and Writable follows.
func TestSlowClientCatchesUp(t *testing.T) {
	r := newRig(t, Config{WriteTimeout: 10 * time.Second})
	nc := rawClient(t, r)
	e := <-r.conns
	frame := AppendText(nil, bytes.Repeat([]byte("c"), 1000))
	sent := 0
	for !e.c.Writing() && sent < 100_000 {
		if err := e.c.Write(frame); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	if !e.c.Writing() {
		t.Fatal("the socket never filled")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	got := 0
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for got < sent*len(frame) {
			n, err := nc.Read(buf)
			if err != nil {
				return
			}
			got += n
		}
	}()
	select {
	case <-e.writable:
	case <-time.After(10 * time.Second):
		t.Fatal("Writable was not called")
	}
	wg.Wait()
	if got != sent*len(frame) {
		t.Fatalf("read %d bytes, want %d", got, sent*len(frame))
	}
	nc.Close()
	closedWith(t, e)
}

// TestConnSize: a Conn fills its size class exactly, a multiple of a cache
// line, so that its first 64 bytes (what every write reads) are one line.
func TestConnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("connPad is worked out for 64-bit machines")
	}
	var c Conn
	if got := unsafe.Sizeof(c); got != connSize || connSize%64 != 0 {
		t.Fatalf("a Conn is %d bytes, want connSize %d, a multiple of 64: change connPad by %d", got, connSize, int(connSize)-int(got))
	}
	if off := unsafe.Offsetof(c.closing) + unsafe.Sizeof(c.closing); off > 64 {
		t.Fatalf("the fields every write reads end at byte %d, past the first cache line", off)
	}
}
