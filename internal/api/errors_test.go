package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// TestWebSocketErrorsNameTheProblem: each bad message gets a 400 whose
// message says what is wrong with it, and the connection stays usable.
func TestWebSocketErrorsNameTheProblem(t *testing.T) {
	r := newRig(t, hub.Config{})
	r.minute(t, 0, btc)
	head, _ := r.st.Head(context.Background())
	ahead := itoa(head + 876)
	sub := `{"op":"subscribe","id":5,"streams":["binance:BTCUSDT@1m"],`
	cases := []struct{ send, want string }{
		{`{"op":`, "message is not valid JSON: unexpected end of JSON input"},
		{`{"op":"ping","id":1,}`, "message is not valid JSON: invalid character '}'"},
		{`[]`, "message is a JSON array, want an object"},
		{`{}`, "no op given"},
		{`{"op":"dance","id":1}`, `unknown op "dance"`},
		{`{"op":"subscribe","id":"x","streams":["binance:BTCUSDT@1m"]}`, `field "id" is a JSON string, want int64`},
		{sub + `"since":"abc"}`, `since "abc": want a non-negative integer cursor`},
		{sub + `"since":1.5}`, `since 1.5: want a non-negative integer cursor`},
		{sub + `"since":-5}`, `since -5: want a non-negative integer cursor`},
		{sub + `"since":` + ahead + `}`, "cursor " + ahead + " is ahead of the newest " + itoa(head)},
		{sub + `"since":9223372036854775807}`, "cursor 9223372036854775807 is ahead of the newest " + itoa(head)},
		{sub + `"snapshot":1001}`, "snapshot 1001: want an integer from 0 to 1000"},
		{sub + `"snapshot":-1}`, "snapshot -1: want an integer from 0 to 1000"},
	}
	c := dialWS(t, r)
	for _, tc := range cases {
		if err := c.Write(context.Background(), websocket.MessageText, []byte(tc.send)); err != nil {
			t.Fatal(err)
		}
		m := readJSON(t, c)
		if m["type"] != "error" || m["code"] != 400.0 || !strings.Contains(m["message"].(string), tc.want) {
			t.Errorf("%s: %v, want a 400 with %q", tc.send, m, tc.want)
		}
	}
	// The connection is still usable: a good resume from the head is acked.
	send(t, c, map[string]any{"op": "subscribe", "id": 6, "streams": []string{btc.String()}, "since": head})
	if m := readJSON(t, c); m["type"] != "ack" || m["cursor"] != float64(head) {
		t.Fatalf("resume from the head: %v", m)
	}
}

// TestCursorAheadOfTheStoreIsRefused: a cursor beyond the newest change
// stored gets a 400 saying so on SSE (Last-Event-ID and ?since=), long
// polling and /v1/candles, instead of a stream that never delivers; the
// head itself is a good cursor.
func TestCursorAheadOfTheStoreIsRefused(t *testing.T) {
	r := newRig(t, hub.Config{})
	r.minute(t, 0, btc)
	head, _ := r.st.Head(context.Background())
	ahead := itoa(head + 1)
	want := "cursor " + ahead + " is ahead of the newest " + itoa(head)
	streams := "streams=" + url.QueryEscape(btc.String())
	cases := []struct {
		path string
		hdr  []string
	}{
		{"/v1/sse?" + streams, []string{"Last-Event-ID", ahead}},
		{"/v1/sse?" + streams + "&since=" + ahead, nil},
		{"/v1/poll?" + streams + "&timeout=1s&cursor=" + ahead, nil},
		{"/v1/candles?market=binance:BTCUSDT&since=" + ahead, nil},
	}
	for _, tc := range cases {
		code, body := ask(t, r.srv.URL+tc.path, tc.hdr...)
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); code != 400 || err != nil || !strings.Contains(e.Error, want) {
			t.Errorf("%s %v: %d %s, want a 400 with %q", tc.path, tc.hdr, code, body, want)
		}
	}
	if code, body := ask(t, r.srv.URL+"/v1/candles?market=binance:BTCUSDT&since="+itoa(head)); code != 200 {
		t.Errorf("since the head: %d %s", code, body)
	}
	for _, bad := range []string{"/v1/sse?" + streams + "&since=-5", "/v1/poll?" + streams + "&cursor=abc", "/v1/candles?market=binance:BTCUSDT&since=x"} {
		code, body := ask(t, r.srv.URL+bad)
		name := strings.SplitN(bad[strings.LastIndex(bad, "&")+1:], "=", 2)
		if code != 400 || !strings.Contains(body, name[0]+` \"`+name[1]+`\"`) {
			t.Errorf("%s: %d %s, want a 400 naming %s and its value", bad, code, body, name[0])
		}
	}
}

// ask gets url within a generous deadline, reading the body unless it is
// an event stream, which may never end.
func ask(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		return resp.StatusCode, "(an event stream)"
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// failingLatest is a store whose snapshot reads fail.
type failingLatest struct{ store.Store }

func (failingLatest) Latest(context.Context, market.Market, market.Interval, int) ([]market.Candle, error) {
	return nil, errors.New("disk on fire")
}

// TestSnapshotReadFailureCloses1011: a snapshot is read after the ack, as
// the client takes it, so a store failing then closes the WebSocket with
// 1011 "store unavailable".
func TestSnapshotReadFailureCloses1011(t *testing.T) {
	r := newRig(t, hub.Config{})
	mux := http.NewServeMux()
	New(Config{Store: failingLatest{r.st}, Hub: r.hub}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := dialWS(t, &rig{srv: srv})
	send(t, c, map[string]any{"op": "subscribe", "id": 1, "streams": []string{btc.String()}})
	if m := readJSON(t, c); m["type"] != "ack" {
		t.Fatalf("subscribe: %v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusInternalError || ce.Reason != "store unavailable" {
		t.Fatalf("after a failed snapshot read: %v, want close 1011 store unavailable", err)
	}
}
