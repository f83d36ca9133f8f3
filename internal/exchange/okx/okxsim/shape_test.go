package okxsim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/exchange/okx"
	"github.com/candlewire/candlewire/internal/exchange/okx/okxsim"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
	"github.com/candlewire/candlewire/internal/sim"
)

func startSim(t *testing.T, speed float64) (*sim.Server, string) {
	t.Helper()
	s := sim.New(sim.Config{Seed: 7, Speed: speed})
	okxsim.Mount(s, "/okx")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func dial(t *testing.T, ctx context.Context, base, path string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/okx/ws/v5/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func send(t *testing.T, ctx context.Context, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// TestTradeShapesMatchRealSession reads the simulator's public endpoint:
// the ack, then trades rows with the keys of the real recorded OKX session
// (plus count, which OKX added after it), trade ids running on by one, and
// the text pong.
func TestTradeShapesMatchRealSession(t *testing.T) {
	var realKeys []string
	for _, f := range realdata.Received(t, "OKX.ws.1.0") {
		if strings.Contains(string(f), `"channel":"trades"`) && strings.Contains(string(f), `"data"`) {
			var env struct{ Data []json.RawMessage }
			json.Unmarshal(f, &env)
			realKeys = realdata.Keys(env.Data[0])
		}
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(realKeys), "count")))
	_, base := startSim(t, 60)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := dial(t, ctx, base, "public")
	send(t, ctx, c, `{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`)
	kinds := map[okx.Kind]int{}
	last := int64(0)
	for kinds[okx.KindTrades] < 20 {
		_, f, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (seen %v)", err, kinds)
		}
		e, err := okx.Decode(f)
		if err != nil {
			t.Fatalf("%v: %s", err, f)
		}
		kinds[e.Kind]++
		if e.Kind != okx.KindTrades {
			continue
		}
		var env struct{ Data []json.RawMessage }
		json.Unmarshal(f, &env)
		if keys := realdata.Keys(env.Data[0]); !slices.Equal(keys, want) {
			t.Fatalf("trade row keys differ from the real session:\n sim  %v\n want %v", keys, want)
		}
		for _, tr := range e.Trades {
			if last > 0 && tr.FirstSeq != last+1 {
				t.Fatalf("trade id %d after %d", tr.FirstSeq, last)
			}
			last = tr.LastSeq
		}
	}
	if kinds[okx.KindReply] != 1 {
		t.Fatalf("acks: %v", kinds)
	}
	send(t, ctx, c, "ping")
	for {
		_, f, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(f) == "pong" {
			return
		}
	}
}

// TestCandlesAndErrors: candle1m is served on /business with a confirmed
// row for every closed minute, in order; asking /public for candles gets
// an error event, as OKX answers since 2023.
func TestCandlesAndErrors(t *testing.T) {
	_, base := startSim(t, 120)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub := dial(t, ctx, base, "public")
	send(t, ctx, pub, `{"op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"}]}`)
	if _, f, err := pub.Read(ctx); err != nil || !strings.Contains(string(f), `"code":"60018"`) {
		t.Fatalf("candles on /public: %s %v", f, err)
	}
	biz := dial(t, ctx, base, "business")
	send(t, ctx, biz, `{"op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"}]}`)
	var finals []int64
	for len(finals) < 3 {
		_, f, err := biz.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (finals %v)", err, finals)
		}
		e, err := okx.Decode(f)
		if err != nil {
			t.Fatalf("%v: %s", err, f)
		}
		for _, c := range e.Candles {
			if c.State == market.Reconciled {
				finals = append(finals, c.OpenTime)
			}
		}
	}
	if finals[1] != finals[0]+60_000 || finals[2] != finals[1]+60_000 {
		t.Fatalf("finals %v: not consecutive minutes", finals)
	}
}

// TestRESTWindow: history-candles answers the asked window newest first,
// closed minutes only, and refuses a bad bar.
func TestRESTWindow(t *testing.T) {
	s, base := startSim(t, 1)
	now := market.I1m.Truncate(s.Clock.Now())
	get := func(q string) (int, string) {
		resp, err := http.Get(base + "/okx/api/v5/market/history-candles?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	from := now - 10*60_000
	code, body := get("instId=BTC-USDT&bar=1m&before=" + itoa(from-1) + "&after=" + itoa(from+3*60_000) + "&limit=100")
	var resp struct {
		Code string
		Data [][]string
	}
	if err := json.Unmarshal([]byte(body), &resp); code != 200 || err != nil || resp.Code != "0" || len(resp.Data) != 3 {
		t.Fatalf("%d %s", code, body)
	}
	for i, row := range resp.Data {
		c, err := okx.CandleRow("BTC-USDT", row, market.SourceREST)
		if err != nil || c.OpenTime != from+int64(2-i)*60_000 || c.State != market.Reconciled {
			t.Fatalf("row %d: %+v %v", i, c, err)
		}
	}
	if code, body := get("instId=BTC-USDT&bar=1x"); code != 400 || !strings.Contains(body, "51000") {
		t.Fatalf("bad bar: %d %s", code, body)
	}
	if _, body := get("instId=BTC-USDT&bar=1m&limit=1"); strings.Contains(body, `"`+itoa(now)+`"`) {
		t.Fatalf("history-candles served the forming minute: %s", body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
