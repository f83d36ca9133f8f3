package cli

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
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

// TestAllowedHostsWarns: a server listening beyond loopback with no
// serve.hosts answers to any Host, and says so.
func TestAllowedHostsWarns(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		hosts []string
		any   bool
	}{
		{"127.0.0.1:8080", nil, false},
		{"0.0.0.0:8080", nil, true},
		{"10.1.2.3:8080", nil, true},
		{"10.1.2.3:8080", []string{"candles.example.com"}, false},
	} {
		var buf bytes.Buffer
		addr, _ := net.ResolveTCPAddr("tcp", tc.addr)
		got := allowedHosts(addr, tc.hosts, slog.New(slog.NewTextHandler(&buf, nil)))
		warned := strings.Contains(buf.String(), "serve.hosts")
		if (got == nil) != tc.any || warned != tc.any {
			t.Errorf("%s with %v: hosts %v, warned %v; want any Host and a warning = %v", tc.addr, tc.hosts, got, warned, tc.any)
		}
	}
}
