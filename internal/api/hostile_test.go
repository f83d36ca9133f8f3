package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/api/apitest"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
)

// hostileRig is the API behind Protect, as `run` serves it, on a listener
// whose sockets have small send buffers, so that a client that does not
// read blocks the server's writes after a few kilobytes.
type hostileRig struct {
	*rig     // the store and the hub
	a        *API
	srv      *httptest.Server
	inflight atomic.Int64 // requests marked ?hostile=1 in their handlers

	mu      sync.Mutex
	written []time.Duration // of each hostile request: from its first write to its handler's end
}

func newHostileRig(t *testing.T, cfg Config) *hostileRig {
	t.Helper()
	h := &hostileRig{rig: newRig(t, hub.Config{})}
	cfg.Store, cfg.Hub, cfg.Registerer = h.st, h.hub, prometheus.NewRegistry()
	h.a = New(cfg)
	mux := http.NewServeMux()
	h.a.Register(mux)
	protected := h.a.Protect(mux)
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.Query().Has("hostile") {
			protected.ServeHTTP(w, r)
			return
		}
		h.inflight.Add(1)
		defer h.inflight.Add(-1)
		tw := &timedWriter{ResponseWriter: w}
		protected.ServeHTTP(tw, r)
		if !tw.first.IsZero() {
			h.mu.Lock()
			h.written = append(h.written, time.Since(tw.first))
			h.mu.Unlock()
		}
	}))
	h.srv.Listener.Close()
	h.srv.Listener = listen(t, syscall.SO_SNDBUF)
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	return h
}

// timedWriter notes when the handler began to write.
type timedWriter struct {
	http.ResponseWriter
	first time.Time
}

func (w *timedWriter) Write(b []byte) (int, error) {
	if w.first.IsZero() {
		w.first = time.Now()
	}
	return w.ResponseWriter.Write(b)
}

func (w *timedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// listen listens on loopback; accepted sockets inherit a small buffer opt.
func listen(t *testing.T, opt int) net.Listener {
	lc := net.ListenConfig{Control: smallBuffer(opt)}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func smallBuffer(opt int) func(_, _ string, rc syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 4096) })
		return errors.Join(err, serr)
	}
}

// dialNoRead connects with a small receive buffer and sends request; the
// caller never reads the answer (or reads it when it chooses).
func (h *hostileRig) dialNoRead(t *testing.T, request string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: smallBuffer(syscall.SO_RCVBUF)}
	nc, err := d.Dial("tcp", h.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := io.WriteString(nc, request); err != nil {
		t.Fatal(err)
	}
	return nc
}

const hostileCandles = "GET /v1/candles?market=binance:BTCUSDT&limit=5000&hostile=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

// fill stores 5,000 minutes of BTCUSDT: a /v1/candles?limit=5000 answer
// is about a megabyte.
func (h *hostileRig) fill(t *testing.T, from, n int) {
	t.Helper()
	for b := from; b < from+n; b += 500 {
		batch := make([]market.Candle, 0, 500)
		for m := b; m < min(b+500, from+n); m++ {
			batch = append(batch, bin(btc, m, "100", true))
		}
		h.write(t, batch...)
	}
}

func (h *hostileRig) waitInflight(t *testing.T, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for h.inflight.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still in their handlers after %s, want %d", h.inflight.Load(), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// getCandles is a normal client: it reads the whole answer.
func (h *hostileRig) getCandles(t *testing.T, limit int) (int, int) {
	t.Helper()
	c := http.Client{Timeout: time.Minute}
	resp, err := c.Get(h.srv.URL + "/v1/candles?market=binance:BTCUSDT&limit=" + fmt.Sprint(limit))
	if err != nil {
		t.Fatalf("normal client: %v", err)
	}
	defer resp.Body.Close()
	var body struct{ Candles []json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("normal client: %d %v", resp.StatusCode, err)
	}
	return resp.StatusCode, len(body.Candles)
}

// TestSlowCandlesReaders: ten clients ask for 5,000 candles and never
// read the answer. Each handler is let go once a write has waited the
// write timeout (10 s), and meanwhile a normal client is answered.
func TestSlowCandlesReaders(t *testing.T) {
	t.Parallel()
	h := newHostileRig(t, Config{})
	h.fill(t, 0, 5000)
	const hostile = 10
	for i := range hostile {
		req := hostileCandles
		if i%2 == 1 { // an Upgrade header must not lift the deadline of a plain response
			req = strings.Replace(req, "\r\n\r\n", "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 1)
		}
		h.dialNoRead(t, req)
	}
	if code, n := h.getCandles(t, 5000); code != 200 || n != 5000 {
		t.Fatalf("normal client beside the stalled ones: %d, %d candles", code, n)
	}
	h.letGoAfterWriteTimeout(t, hostile)
}

// letGoAfterWriteTimeout waits (2 minutes at most: the race detector
// renders slowly on a loaded machine) until n stalled handlers have
// written and none is held, and checks each was let go at the write
// timeout after it began to write.
func (h *hostileRig) letGoAfterWriteTimeout(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for h.inflight.Load() > 0 || h.wrote() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d stalled handlers still held after 2 minutes", h.inflight.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.written {
		if d < writeTimeout/2 || d > writeTimeout+20*time.Second {
			t.Errorf("a stalled handler let go %s after it began to write, want the write timeout, %s", d, writeTimeout)
		}
	}
}

func (h *hostileRig) wrote() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.written)
}

// TestCandlesCountAgainstPerIPLimit: /v1/candles requests in flight count
// against max_conns_per_ip like the streaming connections.
func TestCandlesCountAgainstPerIPLimit(t *testing.T) {
	t.Parallel()
	h := newHostileRig(t, Config{MaxConnsPerIP: 2})
	h.fill(t, 0, 5000)
	h.dialNoRead(t, hostileCandles)
	h.dialNoRead(t, hostileCandles)
	h.waitInflight(t, 2, 20*time.Second)
	c := http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(h.srv.URL + "/v1/candles?market=binance:BTCUSDT&limit=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third request from the address: %d, want 429", resp.StatusCode)
	}
	if n := testutil.ToFloat64(h.a.met.refused.WithLabelValues("poll", "per-ip-limit")); n != 1 {
		t.Fatalf("rejected_total{poll,per-ip-limit} = %v, want 1", n)
	}
	h.waitInflight(t, 0, 45*time.Second) // the write timeout frees them
	if code, n := h.getCandles(t, 10); code != 200 || n != 10 {
		t.Fatalf("after the stalled requests were let go: %d, %d candles", code, n)
	}
}

// TestStalledWebSocketClosedAsSlow: a WebSocket client that stops reading
// fills its socket; once a write to it has waited the write timeout it is
// closed with 4008 slow and counted as such, while a normal client of the
// same stream receives every change.
func TestStalledWebSocketClosedAsSlow(t *testing.T) {
	t.Parallel()
	h := newHostileRig(t, Config{})
	nc := h.dialNoRead(t, "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	stalledSubscribe(t, nc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	normal, _ := start(ctx, apitest.WS, h.srv.URL, []string{btc.String()}, 0)
	h.fill(t, 0, 1)
	waitFor(t, "the normal client's first candle", func() bool { return normal.count() >= 1 })
	// 2,000 distinct minutes, about half a megabyte: far more than the
	// stalled client's socket buffers, far less than its hub queue, so
	// its end is the write timeout's doing.
	h.fill(t, 1, 2000)
	flooded := time.Now()
	waitFor(t, "the normal client's candles", func() bool { return normal.count() == 2001 })
	gauge := h.a.met.conns.WithLabelValues("ws")
	deadline := time.Now().Add(45 * time.Second)
	for testutil.ToFloat64(gauge) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the stalled WebSocket is still open")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(flooded); d > wsWriteTimeout+20*time.Second {
		t.Errorf("stalled client closed %s after the flood, want about the write timeout (%s)", d, wsWriteTimeout)
	}
	ends := h.a.met.ends
	if slow, lost := testutil.ToFloat64(ends.WithLabelValues("ws", "slow")), testutil.ToFloat64(ends.WithLabelValues("ws", "connection lost")); slow != 1 {
		t.Fatalf("disconnects_total{ws,slow} = %v (connection lost %v), want the stalled client", slow, lost)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.slow != 0 {
		t.Fatalf("the hub ended %d subscribers, want none (the write timeout ends the stalled one)", h.slow)
	}
}

// wsWriteTimeout is the WebSocket write timeout documented in docs/api.md.
const wsWriteTimeout = 10 * time.Second

// stalledSubscribe reads the 101 answer and subscribes to BTCUSDT, then
// reads the ack, and nothing more.
func stalledSubscribe(t *testing.T, nc net.Conn) {
	t.Helper()
	var resp []byte // byte by byte: no frame may be read with the 101
	for !strings.HasSuffix(string(resp), "\r\n\r\n") {
		b := make([]byte, 1)
		if _, err := nc.Read(b); err != nil {
			t.Fatalf("handshake: %q %v", resp, err)
		}
		resp = append(resp, b[0])
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 101") {
		t.Fatalf("handshake: %q", resp)
	}
	sub := ws.NewTextFrame([]byte(`{"op":"subscribe","id":1,"streams":["binance:BTCUSDT@1m"],"snapshot":0}`))
	if err := ws.WriteFrame(nc, ws.MaskFrame(sub)); err != nil {
		t.Fatal(err)
	}
	h, err := ws.ReadHeader(nc)
	if err != nil || h.Length > 4096 {
		t.Fatalf("ack: %+v %v", h, err)
	}
	ack := make([]byte, h.Length)
	if _, err := io.ReadFull(nc, ack); err != nil || !strings.Contains(string(ack), `"ack"`) {
		t.Fatalf("ack: %s %v", ack, err)
	}
}

// TestStalledStreamsLetGo: an event stream and a long poll whose clients
// never read are let go once a flush (SSE) or the answer (long poll) has
// waited the write timeout, while normal clients of both get everything.
func TestStalledStreamsLetGo(t *testing.T) {
	t.Parallel()
	h := newHostileRig(t, Config{})
	h.fill(t, 0, 2000) // about half a megabyte of changes to replay
	stream := "streams=" + btc.String()
	h.dialNoRead(t, "GET /v1/sse?"+stream+"&since=0&hostile=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	h.dialNoRead(t, "GET /v1/poll?"+stream+"&cursor=0&hostile=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sse, _ := start(ctx, apitest.SSE, h.srv.URL, []string{btc.String()}, 0)
	poll, _ := start(ctx, apitest.LongPoll, h.srv.URL, []string{btc.String()}, 0)
	waitFor(t, "the normal clients' changes", func() bool { return sse.count() == 2000 && poll.count() == 2000 })
	h.letGoAfterWriteTimeout(t, 2)
}

// TestStreamLimitIs200: a WebSocket may subscribe to 200 streams, not one
// more (429).
func TestStreamLimitIs200(t *testing.T) {
	h := newHostileRig(t, Config{})
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var streams []string
	for i := range 201 {
		streams = append(streams, fmt.Sprintf("binance:S%dUSDT@1m", i))
	}
	for i, step := range []struct {
		sub  []string
		want string
	}{{streams[:200], "ack"}, {streams[200:], "error"}} {
		b, _ := json.Marshal(map[string]any{"op": "subscribe", "id": i, "streams": step.sub, "snapshot": 0})
		c.Write(ctx, websocket.MessageText, b) //nolint:errcheck // read below
		m := readJSON(t, c)
		if m["type"] != step.want || step.want == "error" && m["code"] != 429.0 {
			t.Fatalf("subscribing to %d more streams: %v, want %s", len(step.sub), m, step.want)
		}
	}
}

// TestPerIPLimitCountsEveryTransport: WebSockets, event streams, long polls
// and /v1/candles requests of one address count against one limit.
func TestPerIPLimitCountsEveryTransport(t *testing.T) {
	h := newHostileRig(t, Config{MaxConnsPerIP: 3})
	h.fill(t, 0, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	sse, _ := start(ctx, apitest.SSE, h.srv.URL, []string{btc.String()}, 0)
	waitFor(t, "the event stream's snapshot", func() bool { return sse.count() == 1 })
	head, _ := h.a.cfg.Store.Head(ctx)
	h.dialNoRead(t, "GET /v1/poll?streams="+btc.String()+"&cursor="+itoa(head)+"&timeout=60s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	waitFor(t, "the three connections", func() bool {
		return testutil.ToFloat64(h.a.met.conns.WithLabelValues("ws")) == 1 &&
			testutil.ToFloat64(h.a.met.conns.WithLabelValues("sse")) == 1 &&
			testutil.ToFloat64(h.a.met.conns.WithLabelValues("longpoll")) == 1
	})
	if resp, _ := get(t, h.srv.URL+"/v1/candles?market=binance:BTCUSDT"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a fourth connection from the address: %d, want 429", resp.StatusCode)
	}
	c.CloseNow()
	waitFor(t, "the WebSocket's end", func() bool { return testutil.ToFloat64(h.a.met.conns.WithLabelValues("ws")) == 0 })
	if resp, _ := get(t, h.srv.URL+"/v1/candles?market=binance:BTCUSDT"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after one closed: %d, want 200", resp.StatusCode)
	}
}

// TestLongPollOutwaitsWriteTimeout: the write timeout counts from when an
// answer is written, so a long poll may wait longer than it, even on a
// keep-alive connection whose last answer armed a deadline.
func TestLongPollOutwaitsWriteTimeout(t *testing.T) {
	t.Parallel()
	h := newHostileRig(t, Config{})
	h.fill(t, 0, 1)
	c := http.Client{Timeout: time.Minute}
	var cursor int64
	for _, url := range []string{"/v1/candles?market=binance:BTCUSDT", "/v1/poll?streams=" + btc.String() + "&timeout=13s&cursor="} {
		if cursor > 0 {
			url += fmt.Sprint(cursor)
		}
		start := time.Now()
		reused := false
		req, _ := http.NewRequest("GET", h.srv.URL+url, nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(),
			&httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		var body struct{ Cursor int64 }
		err = json.NewDecoder(resp.Body).Decode(&body)
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // to reuse the connection
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", url, resp.StatusCode, err)
		}
		if cursor > 0 && (time.Since(start) < 12*time.Second || !reused) {
			t.Fatalf("the long poll answered after %s (on the same connection: %v), want its 13 s timeout on the same", time.Since(start), reused)
		}
		cursor = body.Cursor
	}
}

// TestProtectKeepsResponseController: behind Protect, a handler still
// sets deadlines and flushes through http.ResponseController.
func TestProtectKeepsResponseController(t *testing.T) {
	a := New(Config{Store: nil, Hub: nil})
	srv := httptest.NewServer(a.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		err := errors.Join(rc.SetWriteDeadline(time.Now().Add(time.Minute)), rc.SetReadDeadline(time.Time{}))
		io.WriteString(w, "part") //nolint:errcheck // read by the client
		if err = errors.Join(err, rc.Flush()); err != nil {
			t.Errorf("ResponseController behind Protect: %v", err)
		}
	})))
	defer srv.Close()
	if resp, body := get(t, srv.URL); resp.StatusCode != 200 || body != "part" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}
