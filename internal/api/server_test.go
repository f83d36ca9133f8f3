package api

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestHTTPServerLimits: the limits docs/api.md states for the server
// itself: 10 s to send a request's headers, 2 min for an idle connection,
// and no server-wide write timeout (responses bound their own writes).
func TestHTTPServerLimits(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.IdleTimeout != 2*time.Minute || srv.WriteTimeout != 0 || srv.ReadTimeout != 0 {
		t.Fatalf("idle %s, write %s, read %s; want 2m, none, none", srv.IdleTimeout, srv.WriteTimeout, srv.ReadTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // closed below
	defer srv.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: localhost\r\n") //nolint:errcheck // the headers never end
	start := time.Now()
	nc.SetReadDeadline(start.Add(40 * time.Second)) //nolint:errcheck // a failed read tells
	io.Copy(io.Discard, nc)                         //nolint:errcheck // until the server hangs up
	if d := time.Since(start); d < 9*time.Second || d > 35*time.Second {
		t.Fatalf("a client that never finished its headers was dropped after %s, want 10 s", d)
	}
}
