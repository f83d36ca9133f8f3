package wsconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// benchSockets is how many connections a write benchmark cycles through;
// each gets one frame per round, as in a fan-out.
const benchSockets = 2000

// BenchmarkWrite compares one 339-byte frame written to a loopback socket
// through Conn.Write with the bare write system call on the same sockets:
// the kernel's own cost, which no server can go below. Readers are
// drained outside the timer.
//
//	go test -run x -bench Write ./internal/wsconn
func BenchmarkWrite(b *testing.B) {
	frame := AppendText(nil, bytes.Repeat([]byte("c"), 337))
	conns, clients := benchConns(b)
	for _, bc := range []struct {
		name  string
		write func(c *Conn) error
	}{
		{"syscall", func(c *Conn) error { _, err := syscall.Write(c.fd, frame); return err }},
		{"Conn.Write", func(c *Conn) error { return c.Write(frame) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			i := 0
			for b.Loop() {
				if err := bc.write(conns[i%benchSockets]); err != nil {
					b.Fatal(err)
				}
				if i++; i%(benchSockets*16) == 0 {
					b.StopTimer()
					drain(b, clients)
					b.StartTimer()
				}
			}
			b.StopTimer()
			drain(b, clients)
		})
	}
}

type nopHandler struct{}

func (nopHandler) Message([]byte) {}
func (nopHandler) Writable()      {}
func (nopHandler) Closed(error)   {}

// benchConns opens benchSockets server connections and their clients.
func benchConns(b *testing.B) ([]*Conn, []net.Conn) {
	u := NewUpgrader(Config{})
	got := make(chan *Conn, benchSockets)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := u.Upgrade(w, r); err == nil {
			c.Serve(nopHandler{})
			got <- c
		}
	}))
	b.Cleanup(srv.Close)
	var conns []*Conn
	var clients []net.Conn
	for range benchSockets {
		nc, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if errors.Is(err, syscall.EMFILE) {
			b.Skipf("%d connections need %d descriptors: raise ulimit -n", benchSockets, 2*benchSockets+10)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { nc.Close() })
		io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n") //nolint:errcheck // the read fails instead
		buf := make([]byte, 512)
		if _, err := nc.Read(buf); err != nil {
			b.Fatal(err)
		}
		clients = append(clients, nc)
		conns = append(conns, <-got)
	}
	return conns, clients
}

// drain reads what the clients have received, without waiting.
func drain(b *testing.B, clients []net.Conn) {
	buf := make([]byte, 256<<10)
	for _, nc := range clients {
		raw, err := nc.(*net.TCPConn).SyscallConn()
		if err != nil {
			b.Fatal(err)
		}
		raw.Read(func(fd uintptr) bool { //nolint:errcheck // a failed read ends the drain
			for {
				if n, err := syscall.Read(int(fd), buf); n <= 0 || err != nil {
					return true
				}
			}
		})
	}
}
