package wsconn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// stalledClient opens a WebSocket on a socket with a small receive buffer
// whose client reads nothing until the test does.
func stalledClient(t *testing.T, r *rig) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	nc, err := d.Dial("tcp", strings.TrimPrefix(r.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	var resp []byte // read byte by byte: no frame may be read with the 101
	for !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		b := make([]byte, 1)
		if _, err := nc.Read(b); err != nil {
			t.Fatalf("handshake: %q %v", resp, err)
		}
		resp = append(resp, b[0])
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101")) {
		t.Fatalf("handshake: %q", resp)
	}
	return nc
}

// fill writes frames of mixed sizes (all three length forms) until the
// socket is full and a write waits, then a few more. It first gives the
// server's socket a send buffer of its own size: the kernel then no longer
// grows it (autotuning), which could take in the write left waiting, on a
// loaded machine, so that it ends instead of timing out.
func fill(t *testing.T, c *Conn) {
	t.Helper()
	if err := syscall.SetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 16<<10); err != nil {
		t.Fatalf("the server's send buffer: %v", err)
	}
	sizes := []int{100, 1000, 70_000}
	for i := 0; i < 100_000; i++ {
		if c.Writing() {
			for range 3 { // a backlog behind the write in progress
				if err := c.Write(AppendText(nil, bytes.Repeat([]byte("b"), 500))); err != nil && !errors.Is(err, ErrClosing) {
					t.Fatal(err) // closing: the write timeout came already (a loaded machine)
				}
			}
			return
		}
		if err := c.Write(AppendText(nil, bytes.Repeat([]byte("c"), sizes[i%len(sizes)]))); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the socket never filled")
}

func waitClosing(t *testing.T, c *Conn, within time.Duration) {
	t.Helper()
	select {
	case <-c.Closing():
	case <-time.After(within):
		t.Fatalf("not closing after %s", within)
	}
}

// TestStalledClientGetsSlowClose: a client that does not take a write
// within the write timeout is closed as slow; when it reads again it gets
// the frame that was on the wire whole, then close 4008 "slow".
func TestStalledClientGetsSlowClose(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{WriteTimeout: time.Second, CloseTimeout: 20 * time.Second})
	nc := stalledClient(t, r)
	e := <-r.conns
	fill(t, e.c)
	waitClosing(t, e.c, 20*time.Second)
	if err := e.c.Write(AppendText(nil, []byte("late"))); !errors.Is(err, ErrClosing) {
		t.Fatalf("write after the slow close: %v, want ErrClosing", err)
	}
	for {
		h, err := ws.ReadHeader(nc)
		if err != nil || h.Length > 1<<20 {
			t.Fatalf("reading what was sent: %+v %v", h, err)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(nc, payload); err != nil {
			t.Fatalf("reading what was sent: %v", err)
		}
		if h.OpCode == ws.OpClose {
			code, reason := ws.ParseCloseFrameData(payload)
			if code != StatusSlow || reason != "slow" {
				t.Fatalf("close %d %q, want 4008 slow", code, reason)
			}
			break
		}
		if h.OpCode != ws.OpText || !h.Fin || strings.Trim(string(payload), "bc") != "" {
			t.Fatalf("a broken frame before the close: %+v", h)
		}
	}
	ws.WriteFrame(nc, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(StatusSlow, "")))) //nolint:errcheck // the answer
	var ce *CloseError
	if err := closedWith(t, e); !errors.As(err, &ce) || ce.Code != StatusSlow || ce.Remote {
		t.Fatalf("Closed(%v), want the server's close 4008 slow", err)
	}
}

// TestWriteTimeoutIsTenSeconds: with the defaults, a client that takes
// nothing is closed as slow 10 s after a write started waiting for it, and
// its socket is closed 2 s (the close timeout) later, when the close frame
// cannot be sent either.
func TestWriteTimeoutIsTenSeconds(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{})
	stalledClient(t, r)
	e := <-r.conns
	fill(t, e.c)
	start := time.Now()
	waitClosing(t, e.c, 40*time.Second)
	if d := time.Since(start); d < 9*time.Second {
		t.Fatalf("closed as slow after %s, want the 10 s write timeout", d)
	}
	var ce *CloseError
	if err := closedWith(t, e); !errors.As(err, &ce) || ce.Code != StatusSlow {
		t.Fatalf("Closed(%v), want 4008 slow", err)
	}
	if d := time.Since(start); d < 11*time.Second || d > 40*time.Second {
		t.Fatalf("socket closed %s after the write started waiting, want 10 s + 2 s", d)
	}
}

// TestBlockedClientIsNotJudgedByPings: while a write waits for the client,
// its pings (which would queue behind it) cannot fail it as "no pong":
// the write timeout ends it as slow.
func TestBlockedClientIsNotJudgedByPings(t *testing.T) {
	t.Parallel()
	r := newRig(t, Config{WriteTimeout: 2 * time.Second})
	stalledClient(t, r)
	e := <-r.conns
	fill(t, e.c)
	for i := range 3 {
		if err := e.c.Ping(); err != nil {
			t.Fatalf("ping %d while a write waits: %v", i+1, err)
		}
	}
	var ce *CloseError
	if err := closedWith(t, e); !errors.As(err, &ce) || ce.Code != StatusSlow {
		t.Fatalf("Closed(%v), want 4008 slow", err)
	}
}

func TestFrameEnd(t *testing.T) {
	a := AppendText(nil, bytes.Repeat([]byte("a"), 10))     // 12 bytes
	b := AppendText(nil, bytes.Repeat([]byte("b"), 300))    // 304 bytes
	c := AppendText(nil, bytes.Repeat([]byte("c"), 70_000)) // 70,010 bytes
	all := append(append(append([]byte(nil), a...), b...), c...)
	for _, tc := range []struct{ from, at, want int }{
		{0, 0, 0}, {0, 1, 12}, {0, 12, 12}, {0, 13, 316}, {0, 316, 316}, {0, 317, len(all)}, {0, len(all), len(all)},
		{12, 5, 12}, // the head ends a frame begun earlier
	} {
		if got := frameEnd(all, tc.from, tc.at); got != tc.want {
			t.Errorf("frameEnd(from %d, at %d) = %d, want %d", tc.from, tc.at, got, tc.want)
		}
	}
}
