package binancesim_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/exchange/binance/binancesim"
	"github.com/candlewire/candlewire/internal/sim"
)

func dial(t *testing.T, s *sim.Server) (*websocket.Conn, context.Context) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/binance/stream?streams=btcusdt@kline_1m", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, ctx
}

// readUntilClosed reads until the server closes and returns the close code.
func readUntilClosed(ctx context.Context, c *websocket.Conn) websocket.StatusCode {
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestCutsConnectionsAt24Hours(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1, Speed: 1})
	binancesim.Mount(s, "/binance")
	c, ctx := dial(t, s)
	time.Sleep(100 * time.Millisecond)
	s.Clock.Skip(24 * time.Hour)
	if code := readUntilClosed(ctx, c); code != websocket.StatusNormalClosure {
		t.Fatalf("close code %v, want a normal close at the 24 h mark", code)
	}
}

// TestDisconnectsAboveFiveMessagesPerSecond: messages beyond 5 a second
// (with a burst of 10, as the simulator counts them when it reads them)
// close the connection.
func TestDisconnectsAboveFiveMessagesPerSecond(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1, Speed: 1})
	binancesim.Mount(s, "/binance")
	c, ctx := dial(t, s)
	for i := 0; i < 11; i++ {
		c.Write(ctx, websocket.MessageText, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":1}`))
	}
	if code := readUntilClosed(ctx, c); code != websocket.StatusPolicyViolation {
		t.Fatalf("close code %v, want policy violation after 11 messages at once", code)
	}
}
