package node

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
)

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
