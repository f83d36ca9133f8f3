package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
)

// FuzzWSOps sends each input as one client message over a real WebSocket
// to a real API, then a ping: whatever the input, the server answers the
// ping on the same connection (a bad op gets an error reply, never a crash
// or a dropped connection), and every reply is JSON with a type. The one
// exception is text that is not UTF-8, which RFC 6455 answers with 1007.
func FuzzWSOps(f *testing.F) {
	for _, seed := range []string{
		`{"op":"ping","id":1}`,
		`{"op":"subscribe","id":2,"streams":["binance:BTCUSDT@1m"],"snapshot":3}`,
		`{"op":"subscribe","id":3,"streams":["binance:BTCUSDT@5m","binance:BTCUSDT@5m"],"since":0}`,
		`{"op":"subscribe","id":4,"streams":["binance:BTCUSDT@1m"],"since":-5,"snapshot":-1}`,
		`{"op":"subscribe","id":5,"streams":["binance:BTCUSDT@1m"],"snapshot":1000000000}`,
		`{"op":"unsubscribe","id":6,"streams":["binance:BTCUSDT@1m"]}`,
		`{"op":"subscribe","id":"x","streams":"binance:BTCUSDT@1m"}`,
		`{"op":"subscribe","streams":[null,1,{}]}`,
		`{"op":"subscribe","id":7,"streams":["a:B@1m"],"extra":{"deep":[[[[1]]]]}}`,
		`{"op":"","id":8}`, `{}`, `[]`, `null`, `"ping"`, `{"op":`, "\x00\xff", ``,
	} {
		f.Add([]byte(seed))
	}
	r := newRig(f, hub.Config{})
	r.minute(f, 0, btc)
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+r.srv.URL[len("http"):]+"/v1/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"op":"ping","id":424242}`)); err != nil {
			t.Fatal(err)
		}
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				if !utf8.Valid(msg) && websocket.CloseStatus(err) == websocket.StatusInvalidFramePayloadData {
					return // RFC 6455 §8.1: a text message must be UTF-8
				}
				t.Fatalf("after %q: connection ended before the pong: %v", msg, err)
			}
			var reply struct {
				Type string `json:"type"`
				ID   int64  `json:"id"`
			}
			if err := json.Unmarshal(data, &reply); err != nil || reply.Type == "" {
				t.Fatalf("after %q: reply %q is not a typed JSON message", msg, data)
			}
			if reply.Type == "pong" && reply.ID == 424242 {
				return
			}
		}
	})
}
