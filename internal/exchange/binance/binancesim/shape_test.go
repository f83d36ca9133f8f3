package binancesim_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/exchange/binance/binancesim"
	"github.com/candlewire/candlewire/internal/realdata"
	"github.com/candlewire/candlewire/internal/sim"
)

// payloadKeys returns the key paths of a combined-stream frame's payload,
// and its event type.
func payloadKeys(t *testing.T, frame []byte) (string, []string) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(frame, &env); err != nil || env.Data == nil {
		return "", nil
	}
	var h struct {
		E string `json:"e"`
	}
	json.Unmarshal(env.Data, &h)
	return h.E, realdata.Keys(env.Data)
}

// TestShapesMatchRealSession reads the simulator's combined stream and
// checks that every aggTrade and kline has exactly the keys of the real
// recorded Binance session.
func TestShapesMatchRealSession(t *testing.T) {
	real := map[string][]string{}
	for _, f := range realdata.Received(t, "BINANCE.ws.1.0") {
		if e, keys := payloadKeys(t, f); e == "aggTrade" || e == "kline" {
			real[e] = keys
		}
	}
	s := sim.New(sim.Config{Seed: 1, Speed: 60})
	binancesim.Mount(s, "/binance")
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/binance/stream?streams=btcusdt@kline_1m/btcusdt@aggTrade", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	seen := map[string]int{}
	closed := 0
	for seen["aggTrade"] < 20 || seen["kline"] < 3 || closed == 0 {
		_, f, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (seen %v, closed klines %d)", err, seen, closed)
		}
		e, keys := payloadKeys(t, f)
		if !slices.Equal(keys, real[e]) {
			t.Fatalf("%s keys differ from the real session:\n sim  %v\n real %v", e, keys, real[e])
		}
		seen[e]++
		if strings.Contains(string(f), `"x":true`) {
			closed++
		}
	}
}
