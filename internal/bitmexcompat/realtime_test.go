package bitmexcompat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/market"
)

// normal is a well-behaved client beside a hostile one: subscribed to
// XBTUSD's 1m bins, its partial read.
func normal(t *testing.T, r *rig) *websocket.Conn {
	t.Helper()
	c := dial(t, r, "?subscribe=tradeBin1m:XBTUSD")
	for _, want := range []string{"Welcome", `"success":true`, `"action":"partial"`} {
		if got := read(t, c); !strings.Contains(got, want) {
			t.Fatalf("normal client: got %s, want %s", got, want)
		}
	}
	return c
}

// stillServed checks the normal client gets minute m's bin, published now,
// and a pong.
func stillServed(t *testing.T, r *rig, c *websocket.Conn, m int) {
	t.Helper()
	r.final(t, m, fmt.Sprint(64000+m))
	if got := read(t, c); !strings.Contains(got, `"action":"insert"`) || !strings.Contains(got, fmt.Sprintf(`"close":%d`, 64000+m)) {
		t.Fatalf("normal client: got %s, want the insert of minute %d", got, m)
	}
	write(t, c, "ping")
	if got := read(t, c); got != "pong" {
		t.Fatalf("normal client: got %s, want pong", got)
	}
}

// untilPong sends msg and then "ping", and returns the replies before the
// pong.
func untilPong(t *testing.T, c *websocket.Conn, msg string) []string {
	t.Helper()
	c.SetReadLimit(64 << 20)
	write(t, c, msg)
	write(t, c, "ping")
	var got []string
	for total := 0; ; {
		m := read(t, c)
		if m == "pong" {
			return got
		}
		if total += len(m); total > 1<<20 {
			t.Fatalf("more than 1 MiB back (%d messages) before the pong", len(got))
		}
		got = append(got, m)
	}
}

// reply is a /realtime error.
type reply struct {
	Status  int    `json:"status"`
	Error   string `json:"error"`
	Request struct {
		Op      string   `json:"op"`
		Args    []string `json:"args"`
		Omitted int      `json:"argsOmitted"`
	} `json:"request"`
}

// TestRealtimeErrorsBounded: however many bad args a request has, and
// however long they are, it gets one error naming the first three and
// counting the rest, and echoes a bounded request; good args beside them
// are served. A normal client is unaffected.
func TestRealtimeErrorsBounded(t *testing.T) {
	r := newRig(t)
	r.final(t, 0, "64000")
	good := normal(t, r)
	many := `{"op":"subscribe","args":["a"` + strings.Repeat(`,"a"`, 3750) + `]}` // 15 KB, 3,751 bad args
	long := strings.Repeat("x", 15_000)
	cases := []struct {
		name, msg string
		want      string // the error
		acks      int    // topics subscribed before it
	}{
		{"3751 bad args", many, "Unknown table: a; Unknown table: a; Unknown table: a; and 3748 more", 0},
		{"one long arg", `{"op":"subscribe","args":["` + long + `"]}`, "Unknown table: " + long[:61] + "…", 0},
		{"long symbol", `{"op":"subscribe","args":["trade:` + long + `"]}`, "Unknown symbol: " + long[:61] + "…", 0},
		{"long op", `{"op":"` + long + `","args":["a"]}`, "Unknown or unsupported op: " + long[:61] + "…", 0},
		{"mixed", `{"op":"subscribe","args":["b","tradeBin1m:ETHUSD","c","trade:XBTUSD","d","tradeBin1m:ETHUSD"]}`,
			"Unknown table: b; Unknown table: c; Unknown table: d; and 1 more", 2},
		{"unsubscribe", `{"op":"unsubscribe","args":["e","f","g","h","i"]}`, "You are not subscribed to this topic: e; " +
			"You are not subscribed to this topic: f; You are not subscribed to this topic: g; and 2 more", 0},
	}
	for _, tc := range cases {
		c := dial(t, r, "")
		read(t, c) // the welcome
		got := untilPong(t, c, tc.msg)
		if len(got) != 2*tc.acks+1 {
			t.Fatalf("%s: %d replies, want %d acks and partials and one error: %.300q", tc.name, len(got), 2*tc.acks, got)
		}
		checkError(t, tc.name, got[len(got)-1], tc.want)
	}
	c := dial(t, r, "?subscribe="+strings.Repeat("nope:XBTUSD,", 5000)+"tradeBin1m:ETHUSD") // a 60 KB URL
	got := untilPong(t, c, "ping")
	if len(got) != 4 || !strings.Contains(got[0], "Welcome") || !strings.Contains(got[1], `"subscribe":"tradeBin1m:ETHUSD"`) {
		t.Fatalf("URL subscription: %d replies, want welcome, ack, partial and one error: %.300q", len(got), got)
	}
	checkError(t, "URL", got[3], "Unknown table: nope; Unknown table: nope; Unknown table: nope; and 4997 more")
	stillServed(t, r, good, 1)
}

// checkError checks a bounded error reply: its message, and an echo of at
// most about 1 KiB that keeps the first args and counts the others.
func checkError(t *testing.T, name, msg, want string) {
	t.Helper()
	var e reply
	if err := json.Unmarshal([]byte(msg), &e); err != nil || e.Status != 400 || e.Error != want {
		t.Fatalf("%s: error %.300s, want %q", name, msg, want)
	}
	if len(msg) > 2<<10 {
		t.Fatalf("%s: error of %d bytes", name, len(msg))
	}
	for _, a := range e.Request.Args {
		if len(a) > maxEchoArg {
			t.Fatalf("%s: echoed arg of %d bytes", name, len(a))
		}
	}
}

// TestRealtimeEchoKept: a request of ordinary size is echoed whole.
func TestRealtimeEchoKept(t *testing.T) {
	args := []string{"tradeBin1m:XBTUSD", "tradeBin5m:XBTUSD", "trade:ETHUSD"}
	want := `{"args":["tradeBin1m:XBTUSD","tradeBin5m:XBTUSD","trade:ETHUSD"],"op":"subscribe"}`
	if got := string(opRequest("subscribe", args)); got != want {
		t.Fatalf("echo %s, want %s", got, want)
	}
}

// TestRealtimePerIPLimit: /realtime counts against the API's per-IP limit
// with /v1/ws: over it, the address is refused 429 while its admitted
// connections and another address's client stay served, and a closed
// connection frees its place.
func TestRealtimePerIPLimit(t *testing.T) {
	r := newRig(t)
	r.final(t, 0, "64000")
	a := api.New(api.Config{Store: r.st, Hub: r.hub, MaxConnsPerIP: 2})
	s := New(Config{Store: r.st, Hub: r.hub, Markets: []market.Market{market.Default}})
	s.SetAdmit(a.Admit)
	mux := http.NewServeMux()
	a.Register(mux)
	s.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	hostile := func(path string) (*websocket.Conn, *http.Response, error) {
		return dialFrom(t, "127.0.0.1", url+path)
	}
	if _, _, err := hostile("/v1/ws"); err != nil {
		t.Fatal(err)
	}
	first, _, err := hostile("/realtime")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, resp, err := hostile("/realtime")
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("a third connection from one address: %v %v, want 429", resp, err)
		}
	}
	good, _, err := dialFrom(t, "127.0.0.2", url+"/realtime?subscribe=tradeBin1m:XBTUSD")
	if err != nil {
		t.Fatalf("another address was refused: %v", err)
	}
	for _, c := range []*websocket.Conn{first, good} {
		if got := untilPong(t, c, "ping"); len(got) == 0 || !strings.Contains(got[0], "Welcome") {
			t.Fatalf("an admitted client: %q", got)
		}
	}
	first.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, err := hostile("/realtime")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed /realtime connection kept its place: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialFrom opens a WebSocket from the local address ip.
func dialFrom(t *testing.T, ip, url string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// TestRealtimeOpFlood: a client that sends thousands of requests without
// waiting for the answers is slowed down (its requests are read as it
// takes the answers), not cut off, and a normal client is unaffected.
func TestRealtimeOpFlood(t *testing.T) {
	r := newRig(t)
	r.final(t, 0, "64000")
	good := normal(t, r)
	c := dial(t, r, "")
	read(t, c)
	const n = 3000
	for range n {
		write(t, c, "ping")
	}
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, b, err := c.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after %d pongs: %v (close %d)", i, err, websocket.CloseStatus(err))
		}
		if string(b) != "pong" {
			t.Fatalf("got %q, want pong", b)
		}
	}
	stillServed(t, r, good, 1)
}

// TestRealtimeSlowClient: a client that does not read while its trades
// pile up is closed with 4008 "slow", which it reads after what was
// written before; a normal client is unaffected.
func TestRealtimeSlowClient(t *testing.T) {
	r := newRig(t)
	r.final(t, 0, "64000")
	good := normal(t, r)
	c := dial(t, r, "?subscribe=trade:XBTUSD")
	for range 3 {
		read(t, c) // welcome, ack, partial
	}
	c.SetReadLimit(1 << 20)
	tr := market.Trade{Market: market.Default, Time: base, Price: market.MustDecimal("64000"),
		Size: market.MustDecimal("0.01"), Quote: market.MustDecimal("640"), Buy: true}
	for i := 0; !r.s.trades.slowed(market.Default); i++ { // until the socket's buffers and the queue are full
		if i == 1_000_000 {
			t.Fatal("a million trades queued for a client that does not read")
		}
		tr.LastSeq = int64(i + 1)
		r.s.PublishTrade(tr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	for n := 0; err == nil; n++ {
		_, _, err = c.Read(ctx)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4008 || ce.Reason != "slow" {
		t.Fatalf("the client that did not read ended with %v, want close 4008 slow", err)
	}
	stillServed(t, r, good, 1)
}

// TestRealtimeFrameErrors: as on /v1/ws, text that is not UTF-8 closes
// with 1007 and an unmasked client frame with 1002; a normal client is
// unaffected.
func TestRealtimeFrameErrors(t *testing.T) {
	r := newRig(t)
	r.final(t, 0, "64000")
	good := normal(t, r)
	c := dial(t, r, "")
	read(t, c)
	write(t, c, "{\"op\":\"\xff\"}")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("after text that is not UTF-8: %v, want close 1007", err)
	}
	if code := unmasked(t, r); code != ws.StatusProtocolError {
		t.Fatalf("after an unmasked frame: close %d, want 1002", code)
	}
	stillServed(t, r, good, 1)
}

// unmasked sends an unmasked text frame to /realtime and returns the code
// of the server's close frame.
func unmasked(t *testing.T, r *rig) ws.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, br, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(r.srv.URL, "http")+"/realtime")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // a read fails past it
	if err := ws.WriteFrame(nc, ws.NewTextFrame([]byte("ping"))); err != nil {
		t.Fatal(err)
	}
	var src io.Reader = nc
	if br != nil { // frames that came with the handshake's answer
		b, _ := br.Peek(br.Buffered())
		src = io.MultiReader(bytes.NewReader(b), nc)
	}
	for {
		h, err := ws.ReadHeader(src)
		if err != nil || h.Length > 1<<20 {
			t.Fatalf("no close frame: %v (a frame of %d bytes)", err, h.Length)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(src, p); err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if h.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(p)
			return code
		}
	}
}

// slowed reports whether a trade subscriber of m fell behind.
func (f *tradeFanout) slowed(m market.Market) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for ts := range f.subs[m] {
		select {
		case <-ts.slow:
			return true
		default:
		}
	}
	return false
}
