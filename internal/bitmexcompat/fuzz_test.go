package bitmexcompat

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// FuzzRealtimeOps sends each input as one message to /realtime over a real
// socket, then the text "ping": whatever the input, the connection stays
// up and answers "pong", and everything before it is a JSON object (an
// error, a subscribe reply or table data). Text that is not UTF-8 is the
// exception RFC 6455 closes with 1007.
func FuzzRealtimeOps(f *testing.F) {
	for _, seed := range []string{
		`ping`, ` ping `,
		`{"op":"subscribe","args":["tradeBin1m:XBTUSD"]}`,
		`{"op":"subscribe","args":"trade:XBTUSD"}`,
		`{"op":"subscribe","args":["tradeBin5m:XBTUSD","tradeBin1h:ETHUSD","tradeBin1d","trade"]}`,
		`{"op":"subscribe","args":["orderBookL2:XBTUSD","tradeBin7m:XBTUSD","tradeBin1m:NOPE",""]}`,
		`{"op":"unsubscribe","args":["tradeBin1m:XBTUSD"]}`,
		`{"op":"authKeyExpires","args":["k",1,"s"]}`,
		`{"op":"subscribe","args":[1,null,{},["x"]]}`,
		`{"op":null}`, `{}`, `[]`, `"x"`, `{"op":`, "\xff", ``,
	} {
		f.Add([]byte(seed))
	}
	r := newRig(f)
	r.final(f, 0, "100")
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.srv.URL, "http")+"/realtime", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		c.SetReadLimit(16 << 20)
		if _, _, err := c.Read(ctx); err != nil { // the welcome
			t.Fatal(err)
		}
		for _, m := range [][]byte{msg, []byte("ping")} {
			if err := c.Write(ctx, websocket.MessageText, m); err != nil {
				t.Fatal(err)
			}
		}
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				if !utf8.Valid(msg) && websocket.CloseStatus(err) == websocket.StatusInvalidFramePayloadData {
					return
				}
				t.Fatalf("after %q: connection ended before the pong: %v", msg, err)
			}
			if string(data) == "pong" {
				return
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(data, &obj); err != nil {
				t.Fatalf("after %q: reply %q is not a JSON object", msg, data)
			}
		}
	})
}
