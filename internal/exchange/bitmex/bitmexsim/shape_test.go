package bitmexsim_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexsim"
	"github.com/candlewire/candlewire/internal/realdata"
	"github.com/candlewire/candlewire/internal/sim"
)

func rowKeys(msg []byte) (table, action string, keys []string) {
	var f struct {
		Table  string            `json:"table"`
		Action string            `json:"action"`
		Data   []json.RawMessage `json:"data"`
	}
	if json.Unmarshal(msg, &f) != nil || len(f.Data) == 0 {
		return f.Table, f.Action, nil
	}
	return f.Table, f.Action, realdata.Keys(f.Data[0])
}

// TestShapesMatchRealData checks the simulator's welcome, acks, trade rows
// and non-empty tradeBin1m rows against the real recordings. Allowed
// differences are the documented later additions (trdType on trades; the
// 2026 welcome has heartbeatEnabled and appName and no limit).
func TestShapesMatchRealData(t *testing.T) {
	var realTrade, realBin []string
	for _, f := range realdata.Received(t, "BITMEX.ws.1.0") {
		if table, _, keys := rowKeys(f); table == "trade" && keys != nil {
			realTrade = keys
		}
	}
	for _, q := range realdata.QuotedBins(t) {
		if _, _, keys := rowKeys([]byte(q.Message)); q.Kind == "ws" && len(keys) > len(realBin) {
			realBin = keys
		}
	}
	s := sim.New(sim.Config{Seed: 1, Speed: 60})
	bitmexsim.Mount(s, "/bitmex")
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/bitmex/realtime?subscribe=tradeBin1m:XBTUSD,trade:XBTUSD", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, welcome, _ := c.Read(ctx)
	for _, k := range []string{"info", "version", "timestamp", "docs"} {
		if !slices.Contains(realdata.Keys(welcome), k) {
			t.Fatalf("welcome lacks %q: %s", k, welcome)
		}
	}
	acks, trades, bins := 0, 0, 0
	for acks < 2 || trades < 10 || bins < 2 {
		_, f, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (acks %d trades %d bins %d)", err, acks, trades, bins)
		}
		table, action, keys := rowKeys(f)
		switch {
		case strings.Contains(string(f), `"success":true`):
			if !slices.Equal(realdata.Keys(f), []string{"request", "request.args", "request.op", "subscribe", "success"}) {
				t.Fatalf("ack shape: %s", f)
			}
			acks++
		case table == "trade" && action == "insert":
			if want := append(slices.Clone(realTrade), "trdType"); !slices.Equal(keys, sorted(want)) {
				t.Fatalf("trade row keys:\n sim  %v\n real %v + trdType", keys, realTrade)
			}
			trades++
		case table == "tradeBin1m" && action == "insert" && !strings.Contains(string(f), `"trades":0`):
			if !slices.Equal(keys, realBin) {
				t.Fatalf("bin row keys:\n sim  %v\n real %v", keys, realBin)
			}
			bins++
		}
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }
