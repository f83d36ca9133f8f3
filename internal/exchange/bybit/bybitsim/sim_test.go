package bybitsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/exchange/bybit"
	"github.com/candlewire/candlewire/internal/exchange/bybit/bybitsim"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
	"github.com/candlewire/candlewire/internal/sim"
)

// The shapes of Bybit's documented examples (protocols.md §5): a spot
// trade has no tick direction (L), which only derivatives carry.
const (
	docKline = `{"start":1714102140000,"end":1714102199999,"interval":"1","open":"50803.82","close":"50803.82","high":"50803.84","low":"50803.82","volume":"0.51374","turnover":"26099.95921086","confirm":false,"timestamp":1714102192562}`
	docTrade = `{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}`
)

func start(t *testing.T, speed float64) (*sim.Server, string) {
	s := sim.New(sim.Config{Seed: 5, Speed: speed, History: 30 * time.Minute})
	bybitsim.Mount(s, "/bybit")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// TestStream: the subscribe reply, then trades and klines of the
// documented shapes with a confirmed kline for every closed minute, a pong
// for the op ping, and a refusal for too many args or an unknown topic.
func TestStream(t *testing.T) {
	_, base := start(t, 120)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/bybit/v5/public/spot", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send := func(s string) {
		if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"req_id":"1","op":"subscribe","args":["kline.1.BTCUSDT","publicTrade.BTCUSDT"]}`)
	send(`{"req_id":"2","op":"subscribe","args":["a","b","c","d","e","f","g","h","i","j","k"]}`)
	send(`{"req_id":"3","op":"subscribe","args":["kline.7.BTCUSDT"]}`)
	send(`{"req_id":"4","op":"ping"}`)
	replies, pongs, trades := map[bool]int{}, 0, 0
	var finals []int64
	for len(finals) < 3 || trades < 20 || pongs == 0 {
		_, f, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (finals %v, trades %d)", err, finals, trades)
		}
		e, err := bybit.Decode(f)
		if err != nil {
			t.Fatalf("%v: %s", err, f)
		}
		switch e.Kind {
		case bybit.KindReply:
			replies[e.OK]++
		case bybit.KindPong:
			pongs++
		case bybit.KindTrades:
			trades += len(e.Trades)
			sameKeys(t, f, docTrade)
		case bybit.KindKline:
			sameKeys(t, f, docKline)
			if e.Candles[0].State == market.Reconciled {
				finals = append(finals, e.Candles[0].OpenTime)
			}
		}
	}
	if replies[true] != 1 || replies[false] != 2 {
		t.Fatalf("replies ok/refused: %v, want 1 and 2", replies)
	}
	if finals[1] != finals[0]+60_000 || finals[2] != finals[1]+60_000 {
		t.Fatalf("finals %v: not consecutive", finals)
	}
}

func sameKeys(t *testing.T, frame []byte, doc string) {
	t.Helper()
	var env struct{ Data []json.RawMessage }
	json.Unmarshal(frame, &env)
	if got, want := realdata.Keys(env.Data[0]), realdata.Keys([]byte(doc)); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want the documented %v", got, want)
	}
}

// TestKline: REST rows of the asked range, newest first, the forming
// minute included, and server time to tell it apart.
func TestKline(t *testing.T) {
	s, base := start(t, 1)
	now := market.I1m.Truncate(s.Clock.Now())
	get := func(q string) string {
		resp, err := http.Get(base + "/bybit/v5/market/kline?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	body := get(fmt.Sprintf("category=spot&symbol=BTCUSDT&interval=1&start=%d&end=%d&limit=1000", now-5*60_000, now+59_999))
	cs, err := bybit.DecodeKlines("BTCUSDT", []byte(body))
	if err != nil || len(cs) != 6 || cs[0].OpenTime != now-5*60_000 || cs[5].State != market.Provisional || cs[4].State != market.Reconciled {
		t.Fatalf("%v %+v\n%s", err, cs, body)
	}
	if body := get("category=linear&symbol=BTCUSDT&interval=1"); !strings.Contains(body, `"retCode":10001`) {
		t.Fatalf("linear: %s", body)
	}
}
