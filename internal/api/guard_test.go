package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
)

// TestSecurity: tokens are required when configured, foreign Origins are
// refused, and one address cannot hold more streaming connections than
// allowed.
func TestSecurity(t *testing.T) {
	r := newRig(t, hub.Config{})
	const token = "0123456789abcdef"
	a := New(Config{Store: r.st, Hub: r.hub, Tokens: []string{token}, Origins: []string{"charts.example.com"}})
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(a.Protect(mux))
	defer srv.Close()
	candles := srv.URL + "/v1/candles?market=binance:BTCUSDT"
	cases := []struct {
		name string
		url  string
		hdr  []string
		want int
	}{
		{"no token", candles, nil, 401},
		{"wrong token", candles, []string{"Authorization", "Bearer 0123456789abcdeX"}, 401},
		{"header token", candles, []string{"Authorization", "Bearer " + token}, 200},
		{"lower-case scheme", candles, []string{"Authorization", "bearer " + token}, 200},
		{"upper-case scheme", candles, []string{"Authorization", "BEARER " + token}, 200},
		{"another scheme", candles, []string{"Authorization", "Basic " + token}, 401},
		{"query token", candles + "&token=" + token, nil, 200},
		{"no token on the stream endpoints", srv.URL + "/v1/poll?streams=binance:BTCUSDT@1m", nil, 401},
	}
	for _, c := range cases {
		if resp, _ := get(t, c.url, c.hdr...); resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws?token=" + token
	ctx := context.Background()
	for origin, ok := range map[string]bool{"https://evil.example.net": false, "https://charts.example.com": true, "": true} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: h})
		if (err == nil) != ok {
			t.Errorf("Origin %q: err %v, want accepted=%v", origin, err, ok)
		}
		if err != nil && resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("Origin %q refused with %d, want 403", origin, resp.StatusCode)
		}
		if c != nil {
			c.CloseNow()
		}
	}
	// A separate server with a limit of two streaming connections per address.
	b := New(Config{Store: r.st, Hub: r.hub, MaxConnsPerIP: 2})
	mux2 := http.NewServeMux()
	b.Register(mux2)
	srv2 := httptest.NewServer(mux2)
	defer srv2.Close()
	ws = "ws" + strings.TrimPrefix(srv2.URL, "http") + "/v1/ws"
	var conns []*websocket.Conn
	for i := range 3 {
		c, resp, err := websocket.Dial(ctx, ws, nil)
		if i < 2 && err != nil || i == 2 && (err == nil || resp.StatusCode != http.StatusTooManyRequests) {
			t.Fatalf("connection %d from one address: %v (%v)", i+1, err, resp)
		}
		if c != nil {
			conns = append(conns, c)
			c.Write(ctx, websocket.MessageText, []byte(`{"op":"ping"}`)) //nolint:errcheck // held open
			c.Read(ctx)                                                  //nolint:errcheck // the pong: the handler is running
		}
	}
	for _, c := range conns {
		c.CloseNow()
	}
}
