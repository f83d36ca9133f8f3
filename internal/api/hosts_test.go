package api

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
)

// TestHostAllowList: a server on loopback answers only to its own names
// (a page on another domain that resolves to 127.0.0.1 is refused with
// 421, its WebSocket too) and to the configured ones.
func TestHostAllowList(t *testing.T) {
	r := newRig(t, hub.Config{})
	srv := httptest.NewUnstartedServer(nil)
	a := New(Config{Store: r.st, Hub: r.hub, Hosts: AllowedHosts(srv.Listener.Addr(), []string{"charts.example.com", "*.lan.example:8443"})})
	mux := http.NewServeMux()
	a.Register(mux)
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") } //nolint:errcheck // a test answer
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /metrics", ok)
	srv.Config.Handler = a.Protect(mux)
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	cases := []struct {
		host string
		want int
	}{
		{"evil.example", 421},
		{"evil.example:" + port, 421},
		{"localhost.evil.example:" + port, 421},
		{"127.0.0.1.nip.example:" + port, 421},
		{"a.lan.example:80", 421}, // the pattern names its port
		{"localhost:" + port, 200},
		{"LocalHost:" + port, 200},
		{"localhost", 200},
		{"127.0.0.1:" + port, 200},
		{"127.0.0.1", 200},
		{"[::1]:" + port, 200},
		{"charts.example.com", 200},
		{"charts.example.com:443", 200},
		{"a.lan.example:8443", 200},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/candles?market=binance:BTCUSDT", nil)
		req.Host = c.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Host %q: %d %s, want %d", c.host, resp.StatusCode, body, c.want)
		}
	}
	// Probes addressed to the server's IP or another name: /healthz and
	// /metrics answer; nothing else does.
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 200, "/v1/status": 421} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = "10.1.2.3:" + port
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s with Host 10.1.2.3: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// DNS rebinding: the page's own origin matches its Host, which is not ours.
	evil := "evil.example:" + port
	c, resp, err := websocket.Dial(context.Background(), "ws://"+srv.Listener.Addr().String()+"/v1/ws",
		&websocket.DialOptions{Host: evil, HTTPHeader: http.Header{"Origin": {"http://" + evil}}})
	if err == nil {
		c.CloseNow()
		t.Fatal("a WebSocket addressed to evil.example was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("WebSocket addressed to evil.example: %v %v, want 421", resp, err)
	}
}

// TestAllowedHosts: which Host headers a server allows, by where it
// listens and what is configured.
func TestAllowedHosts(t *testing.T) {
	loop4 := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 8080}
	loop6 := &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}
	public := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 8080}
	all := &net.TCPAddr{IP: net.IPv4zero, Port: 8080}
	cases := []struct {
		addr       net.Addr
		configured []string
		allowed    []string
		refused    []string
	}{
		{loop4, nil, []string{"127.0.0.2:8080", "localhost:8080", "127.0.0.1", "[::1]:8080"}, []string{"evil.example", "10.1.2.3:8080"}},
		{loop6, nil, []string{"[::1]:8080", "localhost"}, []string{"evil.example:8080"}},
		{public, nil, []string{"evil.example", "10.1.2.3:8080", "anything"}, nil}, // no list: any Host
		{all, nil, []string{"evil.example"}, nil},
		{public, []string{"candles.example.com"}, []string{"candles.example.com", "CANDLES.example.com.:8080", "localhost:8080"}, []string{"evil.example", "10.1.2.3:8080"}},
		{loop4, []string{"*.example.com"}, []string{"a.example.com", "127.0.0.2"}, []string{"example.com", "a.example.com.evil"}},
		{public, []string{"Charts.Example.com.", "[2001:db8::1]:8443"}, []string{"charts.example.com", "[2001:db8::1]:8443"}, []string{"[2001:db8::1]:80", "[2001:db8::2]:8443"}},
	}
	for _, c := range cases {
		l := parseHosts(AllowedHosts(c.addr, c.configured))
		for _, h := range c.allowed {
			if !l.allows(h) {
				t.Errorf("listening on %s with %v: Host %q refused", c.addr, c.configured, h)
			}
		}
		for _, h := range c.refused {
			if l.allows(h) {
				t.Errorf("listening on %s with %v: Host %q allowed", c.addr, c.configured, h)
			}
		}
	}
}
