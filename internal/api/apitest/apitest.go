package apitest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Msg is one candle change as a client received it.
type Msg struct {
	Type   string `json:"type"`
	Stream string `json:"stream"`
	Cursor int64  `json:"cursor"`
	Candle struct {
		T      int64  `json:"t"`
		C      string `json:"c"`
		V      string `json:"v"`
		Q      string `json:"q"`
		N      int64  `json:"n"`
		Final  bool   `json:"final"`
		Rev    int64  `json:"rev"`
		State  string `json:"state"`
		Source string `json:"source"`
	} `json:"candle"`
	At time.Time `json:"-"` // when it arrived
}

// Client is one transport's client: it delivers messages to out until ctx
// ends or the server ends it, and returns why, with the cursor to resume
// from.
type Client func(ctx context.Context, base string, streams []string, since int64, out chan<- Msg) (cursor int64, err error)

// Transports are the four native transports, for one test body.
var Transports = []struct {
	Name string
	Run  Client
}{
	{"ws", WS},
	{"sse", SSE},
	{"longpoll", LongPoll},
	{"poll", Poll},
}

// PollEvery is how often the plain-polling client polls.
var PollEvery = 20 * time.Millisecond

func send(ctx context.Context, out chan<- Msg, m Msg) bool {
	m.At = time.Now()
	select {
	case out <- m:
		return true
	case <-ctx.Done():
		return false
	}
}

// WS is the WebSocket client.
func WS(ctx context.Context, base string, streams []string, since int64, out chan<- Msg) (int64, error) {
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws", nil)
	if err != nil {
		return since, err
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	sub, _ := json.Marshal(map[string]any{"op": "subscribe", "id": 1, "streams": streams, "since": since})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		return since, err
	}
	cursor := since
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return cursor, err
		}
		var m Msg
		if err := json.Unmarshal(data, &m); err != nil {
			return cursor, err
		}
		switch m.Type {
		case "candle":
			if !send(ctx, out, m) {
				return cursor, ctx.Err()
			}
			cursor = max(cursor, m.Cursor) // only once delivered: a resume must not skip it
		case "error":
			return cursor, fmt.Errorf("error reply: %s", data)
		}
	}
}

// SSE is the Server-Sent Events client.
func SSE(ctx context.Context, base string, streams []string, since int64, out chan<- Msg) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/sse?streams="+url.QueryEscape(strings.Join(streams, ",")), nil)
	req.Header.Set("Last-Event-ID", strconv.FormatInt(since, 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return since, err
	}
	defer resp.Body.Close()
	cursor, id := since, since
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			// Like EventSource, the id counts only once its event is
			// dispatched: a stream cut between id and data resumes before it.
			id, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: ") && event == "candle":
			var m Msg
			if err := json.Unmarshal([]byte(line[6:]), &m); err != nil {
				return cursor, err
			}
			if !send(ctx, out, m) {
				return cursor, ctx.Err()
			}
			cursor = id
		case strings.HasPrefix(line, "data: "):
			return cursor, fmt.Errorf("%s event: %s", event, line[6:])
		}
	}
	return cursor, fmt.Errorf("stream ended: %v", sc.Err())
}

// LongPoll is the long-polling client.
func LongPoll(ctx context.Context, base string, streams []string, since int64, out chan<- Msg) (int64, error) {
	q := "/v1/poll?timeout=2s&streams=" + url.QueryEscape(strings.Join(streams, ","))
	return pollLoop(ctx, base, q, "cursor", since, 0, out)
}

// Poll polls /v1/candles?since= for each stream in turn every PollEvery
// (plain polling has one market per request).
func Poll(ctx context.Context, base string, streams []string, since int64, out chan<- Msg) (int64, error) {
	cursors := map[string]int64{}
	for {
		for _, s := range streams {
			mk, iv, _ := strings.Cut(s, "@")
			q := fmt.Sprintf("/v1/candles?market=%s&interval=%s", url.QueryEscape(mk), iv)
			c, err := pollLoop(ctx, base, q, "since", max(since, cursors[s]), 1, out, s)
			cursors[s] = c
			if err != nil {
				return minCursor(cursors, since), err
			}
		}
		select {
		case <-ctx.Done():
			return minCursor(cursors, since), ctx.Err()
		case <-time.After(PollEvery):
		}
	}
}

func minCursor(m map[string]int64, def int64) int64 {
	first := true
	for _, c := range m {
		if first || c < def {
			def, first = c, false
		}
	}
	return def
}

// pollLoop requests path with the cursor parameter until ctx ends, or
// `rounds` times when rounds > 0.
func pollLoop(ctx context.Context, base, path, param string, cursor int64, rounds int, out chan<- Msg, stream ...string) (int64, error) {
	for i := 0; rounds == 0 || i < rounds; i++ {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s%s&%s=%d", base, path, param, cursor), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return cursor, err
		}
		var body struct {
			Cursor  int64             `json:"cursor"`
			Candles []json.RawMessage `json:"candles"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return cursor, fmt.Errorf("poll: %s %v", resp.Status, err)
		}
		for _, raw := range body.Candles {
			var m Msg
			if len(stream) > 0 { // /v1/candles rows are bare candles
				m.Type, m.Stream, m.Cursor = "candle", stream[0], body.Cursor
				err = json.Unmarshal(raw, &m.Candle)
			} else {
				err = json.Unmarshal(raw, &m)
			}
			if err != nil {
				return cursor, err
			}
			if !send(ctx, out, m) {
				return cursor, ctx.Err()
			}
		}
		cursor = body.Cursor
	}
	return cursor, nil
}
