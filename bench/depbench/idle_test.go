package depbench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	gws "github.com/gorilla/websocket"
	"github.com/lesismal/nbio/nbhttp"
	nws "github.com/lesismal/nbio/nbhttp/websocket"
)

// idleConns is how many idle WebSocket connections each server holds.
const idleConns = 2000

// TestIdleMemoryPerConn measures the server-side Go memory (heap and
// stacks, after a GC) of one idle WebSocket connection, for each library
// in the way candlewire would use it: coder/websocket and gorilla with a
// reader goroutine per connection (coder/websocket also keeps its handler
// goroutine, as a write loop), nbio with none (event-driven). The clients
// are raw sockets in this process; their cost, and the server sockets',
// is measured on a server that only accepts and answers the handshake,
// and taken off. Run: go test -run IdleMemory -v
func TestIdleMemoryPerConn(t *testing.T) {
	base := measure(t, "sockets only", startRaw)
	for _, c := range []struct {
		name  string
		start func(t *testing.T) (string, func())
	}{
		{"coder/websocket v1.8.15 (handler + reader goroutine)", startCoder},
		{"gorilla/websocket v1.5.3 (reader goroutine)", startGorilla},
		{"lesismal/nbio v1.6.8 (event-driven)", startNbio},
	} {
		per := measure(t, c.name, c.start)
		t.Logf("%-55s %6.1f KiB per idle connection", c.name, (per-base)/1024)
	}
}

func goMem() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse + m.StackInuse)
}

// measure returns the Go memory per connection of a server with
// idleConns clients connected and idle.
func measure(t *testing.T, name string, start func(t *testing.T) (string, func())) float64 {
	before := goMem()
	addr, stop := start(t)
	defer stop()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range idleConns {
		c, err := handshake(addr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		conns = append(conns, c)
	}
	time.Sleep(500 * time.Millisecond)
	return (goMem() - before) / idleConns
}

// handshake opens a WebSocket with a raw socket and reads the 101 reply.
func handshake(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	r := bufio.NewReaderSize(c, 512)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, "101") {
		c.Close()
		return nil, fmt.Errorf("handshake: %q %v", status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if line == "\r\n" {
			return c, nil
		}
	}
}

func listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// startRaw accepts and answers the handshake, holding the sockets only.
func startRaw(t *testing.T) (string, func()) {
	ln := listen(t)
	held := make(chan net.Conn, idleConns)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1024)
			c.Read(buf)                                                                                                                                                    //nolint:errcheck // the request fits
			c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")) //nolint:errcheck // measured, not checked
			held <- c
		}
	}()
	return ln.Addr().String(), func() {
		ln.Close()
		close(held)
		for c := range held {
			c.Close()
		}
	}
}

func startCoder(t *testing.T) (string, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cws.Accept(w, r, &cws.AcceptOptions{CompressionMode: cws.CompressionDisabled})
		if err != nil {
			return
		}
		defer c.CloseNow()
		go func() { c.Read(ctx) }() //nolint:errcheck // the reader goroutine
		<-ctx.Done()                // the handler stays, as a write loop
	})}
	ln := listen(t)
	go srv.Serve(ln) //nolint:errcheck // ends at Close
	return ln.Addr().String(), func() { cancel(); srv.Close() }
}

func startGorilla(t *testing.T) (string, func()) {
	up := gws.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		go func() { // the reader goroutine; the handler returns
			defer c.Close()
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	})}
	ln := listen(t)
	go srv.Serve(ln) //nolint:errcheck // ends at Close
	return ln.Addr().String(), func() { srv.Close() }
}

func startNbio(t *testing.T) (string, func()) {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	up := nws.NewUpgrader()
	up.OnMessage(func(*nws.Conn, nws.MessageType, []byte) {})
	e := nbhttp.NewEngine(nbhttp.Config{Network: "tcp", Addrs: []string{addr}, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.Upgrade(w, r, nil) //nolint:errcheck // measured, not checked
	})})
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	return addr, func() { e.Stop() }
}
