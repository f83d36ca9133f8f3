package depbench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cws "github.com/coder/websocket"
	gws "github.com/gorilla/websocket"
)

// frame is a Binance aggTrade frame, the most frequent message we read.
var frame = []byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"BTCUSDT","a":15683430,"p":"64321.57000000","q":"0.00058000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}`)

// Each benchmark op is one frame written by a server and read by a client
// over a real loopback socket, both sides using the library under test.

func BenchmarkWSCoder(b *testing.B) {
	n := b.N
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cws.Accept(w, r, &cws.AcceptOptions{CompressionMode: cws.CompressionDisabled})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for i := 0; i < n; i++ {
			if c.Write(r.Context(), cws.MessageText, frame) != nil {
				return
			}
		}
		c.Close(cws.StatusNormalClosure, "")
	}))
	defer srv.Close()
	ctx := context.Background()
	c, _, err := cws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &cws.DialOptions{CompressionMode: cws.CompressionDisabled})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for i := 0; i < n; i++ {
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWSGorilla(b *testing.B) {
	n := b.N
	up := gws.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			if c.WriteMessage(gws.TextMessage, frame) != nil {
				return
			}
		}
		c.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(gws.CloseNormalClosure, ""))
	}))
	defer srv.Close()
	c, _, err := gws.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for i := 0; i < n; i++ {
		if _, _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}
