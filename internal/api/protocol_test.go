package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
)

func dialWS(t *testing.T, r *rig) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(r.srv.URL, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readJSON(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return m
}

// TestWebSocketOps: each op gets its reply, and bad requests get error
// replies with codes while the connection stays usable.
func TestWebSocketOps(t *testing.T) {
	r := newRig(t, hub.Config{})
	r.minute(t, 0, btc)
	c := dialWS(t, r)
	cases := []struct {
		send string
		want map[string]any // fields the reply must have
	}{
		{`{"op":"ping","id":7}`, map[string]any{"type": "pong", "id": 7.0}},
		{`{"op":"dance","id":1}`, map[string]any{"type": "error", "id": 1.0, "code": 400.0}},
		{`not json`, map[string]any{"type": "error", "code": 400.0}},
		{`{"op":"subscribe","id":2,"streams":["BTCUSDT"]}`, map[string]any{"type": "error", "id": 2.0, "code": 400.0}},
		{`{"op":"subscribe","id":3,"streams":[]}`, map[string]any{"type": "error", "id": 3.0, "code": 400.0}},
		{`{"op":"subscribe","id":4,"streams":["binance:BTCUSDT@7m"]}`, map[string]any{"type": "error", "id": 4.0, "code": 400.0}},
		{`{"op":"subscribe","id":5,"streams":["binance:BTCUSDT@1m"],"snapshot":1}`, map[string]any{"type": "ack", "id": 5.0, "op": "subscribe"}},
	}
	for _, tc := range cases {
		if err := c.Write(context.Background(), websocket.MessageText, []byte(tc.send)); err != nil {
			t.Fatal(err)
		}
		got := readJSON(t, c)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: reply %v, want %s=%v", tc.send, got, k, v)
			}
		}
	}
	// The snapshot follows the ack: the newest candle, final minute 0.
	if m := readJSON(t, c); m["type"] != "candle" || m["stream"] != "binance:BTCUSDT@1m" {
		t.Fatalf("snapshot: %v", m)
	}
	r.write(t, bin(btc, 1, "7", false))
	if m := readJSON(t, c); m["type"] != "candle" || m["candle"].(map[string]any)["c"] != "7" {
		t.Fatalf("live update: %v", m)
	}
	c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"unsubscribe","id":6,"streams":["binance:BTCUSDT@1m"]}`)) //nolint:errcheck // read below
	if m := readJSON(t, c); m["type"] != "ack" || m["op"] != "unsubscribe" {
		t.Fatalf("unsubscribe: %v", m)
	}
}

// TestWebSocketLimits: too many streams are refused with 429; an oversized
// message closes the connection with 1009; a shutdown closes with 1001.
func TestWebSocketLimits(t *testing.T) {
	r := newRig(t, hub.Config{})
	c := dialWS(t, r)
	var many []string
	for i := range 201 {
		many = append(many, "binance:S"+strings.Repeat("X", i%5)+string(rune('A'+i%26))+"USDT@"+string(market.Intervals[i%9]))
	}
	b, _ := json.Marshal(map[string]any{"op": "subscribe", "id": 1, "streams": many})
	c.Write(context.Background(), websocket.MessageText, b) //nolint:errcheck // read below
	if m := readJSON(t, c); m["code"] != 429.0 {
		t.Fatalf("subscription flood: %v", m)
	}
	c.Write(context.Background(), websocket.MessageText, []byte(`{"op":"ping","pad":"`+strings.Repeat("x", 70_000)+`"}`)) //nolint:errcheck // the server closes
	_, _, err := c.Read(context.Background())
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversized message: %v", err)
	}
	c2 := dialWS(t, r)
	c2.Write(context.Background(), websocket.MessageText, []byte(`{"op":"subscribe","id":1,"streams":["binance:BTCUSDT@1m"]}`)) //nolint:errcheck // read below
	readJSON(t, c2)
	r.hub.Close()
	for {
		if _, _, err = c2.Read(context.Background()); err != nil {
			break
		}
	}
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("shutdown: %v", err)
	}
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestCandlesEndpoint: JSON and CSV, ETag and 304, and clear errors.
func TestCandlesEndpoint(t *testing.T) {
	r := newRig(t, hub.Config{})
	for m := range 3 {
		r.minute(t, m, btc)
	}
	base := r.srv.URL + "/v1/candles?market=binance:BTCUSDT"
	resp, body := get(t, base+"&limit=2")
	if resp.StatusCode != 200 || strings.Count(body, `"t":`) != 2 || !strings.Contains(body, `"t":120000`) {
		t.Fatalf("latest 2: %d %s", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	if resp, _ = get(t, base+"&limit=2", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	r.write(t, bin(btc, 2, "5", true)) // a correction changes the answer
	if resp, _ = get(t, base+"&limit=2", "If-None-Match", etag); resp.StatusCode != 200 {
		t.Fatalf("after a correction: %d", resp.StatusCode)
	}
	resp, body = get(t, base+"&from=0&to=120000", "Accept", "text/csv")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(lines) != 3 || lines[0] != strings.Join(market.CSVHeader, ",") {
		t.Fatalf("CSV: %s %q", resp.Header.Get("Content-Type"), body)
	}
	for _, bad := range []string{"&interval=7m", "&from=yesterday", "&to=5", "&limit=0", "&since=-1", "&since=1&from=0"} {
		if resp, body = get(t, base+bad); resp.StatusCode != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
	if resp, _ = get(t, r.srv.URL+"/v1/candles?market=BTCUSDT"); resp.StatusCode != 400 {
		t.Errorf("bad market: %d", resp.StatusCode)
	}
}

// TestLongPollTimeoutAndShutdown: an empty long poll answers at its
// timeout with the same cursor; a shutdown answers one in flight at once.
func TestLongPollTimeoutAndShutdown(t *testing.T) {
	r := newRig(t, hub.Config{})
	r.minute(t, 0, btc)
	head, _ := r.st.Head(context.Background())
	url := r.srv.URL + "/v1/poll?streams=binance:BTCUSDT@1m&timeout=300ms&cursor=" + itoa(head)
	began := time.Now()
	resp, body := get(t, url)
	if took := time.Since(began); resp.StatusCode != 200 || took < 300*time.Millisecond || body != `{"cursor":`+itoa(head)+`,"candles":[]}`+"\n" {
		t.Fatalf("empty poll after %s: %d %s", took, resp.StatusCode, body)
	}
	for _, bad := range []string{"&cursor=1&timeout=2h", "&cursor=1&timeout=soon", "&cursor=x", "&snapshot=5000"} {
		if resp, _ := get(t, r.srv.URL+"/v1/poll?streams=binance:BTCUSDT@1m"+bad); resp.StatusCode != 400 {
			t.Errorf("%s: %d", bad, resp.StatusCode)
		}
	}
	done := make(chan string)
	go func() {
		_, b := get(t, strings.Replace(url, "300ms", "30s", 1))
		done <- b
	}()
	time.Sleep(100 * time.Millisecond)
	r.hub.Close()
	select {
	case b := <-done:
		if !strings.Contains(b, `"candles":[]`) {
			t.Fatalf("poll at shutdown: %s", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an in-flight long poll did not return at shutdown")
	}
}

// TestSSEHeartbeatAndShutdown: an idle stream gets heartbeat comments, and
// a shutdown ends it with a close event.
func TestSSEHeartbeatAndShutdown(t *testing.T) {
	r := newRig(t, hub.Config{})
	resp, err := http.Get(r.srv.URL + "/v1/sse?streams=binance:BTCUSDT@1m&since=0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	seen := map[string]bool{}
	go func() { time.Sleep(500 * time.Millisecond); r.hub.Close() }()
	for sc.Scan() {
		line := sc.Text()
		seen[strings.SplitN(line, ":", 2)[0]] = true
		if strings.Contains(line, "going away") {
			seen["close"] = true
		}
	}
	if !seen[""] || !seen["close"] || !seen["retry"] {
		t.Fatalf("saw %v, want a heartbeat comment, retry and a close event", seen)
	}
	if resp, body := get(t, r.srv.URL+"/v1/sse?streams="); resp.StatusCode != 400 || !strings.Contains(body, "no streams") {
		t.Fatalf("no streams: %d %s", resp.StatusCode, body)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
