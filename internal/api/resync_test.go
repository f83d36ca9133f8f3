package api

import (
	"bufio"
	"context"
	"encoding/json"
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

// floored is a store whose change log keeps changes from floor on, as a
// PostgreSQL store past its retention does.
type floored struct {
	*store.Memory
	floor int64
}

func (f floored) Window(ctx context.Context) (int64, int64, error) {
	_, head, err := f.Memory.Window(ctx)
	return f.floor, head, err
}

// TestStaleCursorResyncs: a cursor of another epoch of the change log, or
// one older than the log keeps, gets a resync on every transport: the
// reason, the newest candles again (a snapshot, or for /v1/candles the
// newest by time) and a cursor of this log to go on from. It is never a
// stream that silently lacks changes, nor an error.
func TestStaleCursorResyncs(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory(nil)
	h := hub.New(hub.Config{})
	p := market.MustDecimal("100")
	var stored []market.Candle
	for m := range 5 {
		res, err := mem.Upsert(ctx, []market.Candle{{Market: btc.Market, Interval: market.I1m, OpenTime: int64(m) * 60_000,
			Open: p, High: p, Low: p, Close: p, Volume: p, Quote: p, Trades: 1, State: market.Reconciled, Source: market.SourceREST}})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, res.Changed...)
	}
	st := floored{mem, stored[2].Seq} // the first two changes are past the retention
	mux := http.NewServeMux()
	New(Config{Store: st, Hub: h, Markets: []market.Market{btc.Market}}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer h.Close()
	other := (mem.Epoch()%store.MaxEpoch + 1) << store.EpochShift // a cursor of another epoch
	head, _ := mem.Head(ctx)
	for _, c := range []struct {
		name   string
		cursor int64
		why    string
	}{
		{"another epoch", other + 3, "another epoch"},
		{"past the retention", stored[0].Seq, "older than the change log keeps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for name, got := range map[string]func(t *testing.T, base string, cursor int64) (string, int64, int){
				"ws": resyncWS, "sse": resyncSSE, "longpoll": resyncPoll, "candles": resyncCandles,
			} {
				reason, cursor, candles := got(t, srv.URL, c.cursor)
				if !strings.Contains(reason, c.why) || cursor != head || candles < 1 {
					t.Errorf("%s: resync %q, cursor %d (head %d), %d candles; want the reason %q, the head and the newest candles",
						name, reason, cursor, head, candles, c.why)
				}
			}
		})
	}
	// A good cursor still resumes: no resync.
	if reason, _, _ := resyncPoll(t, srv.URL, stored[3].Seq); reason != "" {
		t.Errorf("a cursor within the log: resync %q", reason)
	}
}

func resyncWS(t *testing.T, base string, cursor int64) (string, int64, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	sub, _ := json.Marshal(map[string]any{"op": "subscribe", "id": 1, "streams": []string{btc.String()}, "since": cursor})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	var ack struct {
		Type, Resync string
		Cursor       int64
	}
	_, b, err := c.Read(ctx)
	if err != nil || json.Unmarshal(b, &ack) != nil || ack.Type != "ack" {
		t.Fatalf("ws: %s %v", b, err)
	}
	_, b, err = c.Read(ctx)
	n := 0
	if err == nil && strings.Contains(string(b), `"type":"candle"`) {
		n = 1
	}
	return ack.Resync, ack.Cursor, n
}

func resyncSSE(t *testing.T, base string, cursor int64) (string, int64, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/sse?streams="+url.QueryEscape(btc.String()), nil)
	req.Header.Set("Last-Event-ID", itoa(cursor))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var resync struct {
		Reason string
		Cursor int64
	}
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "resync":
			json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &resync) //nolint:errcheck // checked by the caller
		case strings.HasPrefix(line, "data: ") && event == "candle":
			return resync.Reason, resync.Cursor, 1
		}
	}
	return resync.Reason, resync.Cursor, 0
}

func resyncPoll(t *testing.T, base string, cursor int64) (string, int64, int) {
	return resyncJSON(t, base+"/v1/poll?timeout=5s&streams="+url.QueryEscape(btc.String())+"&cursor="+itoa(cursor))
}

func resyncCandles(t *testing.T, base string, cursor int64) (string, int64, int) {
	return resyncJSON(t, base+"/v1/candles?market=binance:BTCUSDT&since="+itoa(cursor))
}

func resyncJSON(t *testing.T, url string) (string, int64, int) {
	code, body := ask(t, url)
	var b struct {
		Resync  string
		Cursor  int64
		Candles []json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &b); code != 200 || err != nil {
		t.Fatalf("%s: %d %s", url, code, body)
	}
	return b.Resync, b.Cursor, len(b.Candles)
}
