package replay

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/exchange/binance"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/record"
	"github.com/candlewire/candlewire/internal/upstream"
)

// klineFrame is a Binance combined-stream kline event.
func klineFrame(symbol string, open int64, closePrice string, final bool) record.Line {
	return record.Line{Kind: 'r', Text: []byte(fmt.Sprintf(`{"stream":"%s@kline_1m","data":{"e":"kline","E":%d,"s":"%s","k":{"t":%d,"T":%d,"s":"%s","i":"1m","f":1,"L":2,"o":"100.00","c":"%s","h":"101.00","l":"99.00","v":"1.5","n":2,"x":%t,"q":"150.00","V":"1","Q":"100","B":"0"}}}`,
		strings.ToLower(symbol), open+59_999, symbol, open, open+59_999, symbol, closePrice, final))}
}

// TestReplayServesKlines: Binance's klines REST answers from the
// recording's final 1m klines, each minute once (the last recorded),
// within startTime, endTime and limit, as Reconciled candles to the
// collector's own Binance client, whose clock (Date) is the recording's,
// ahead of this machine's; a futures session's klines, or another path's,
// are not mixed in; other REST paths are 404.
func TestReplayServesKlines(t *testing.T) {
	future := market.I1m.Truncate(time.Now().Add(48 * time.Hour).UnixMilli()) // a simulator at 60x records ahead
	frames := []record.Line{
		klineFrame("BTCUSDT", future, "100.50", false), // not final
		klineFrame("BTCUSDT", future, "100.60", true),
		klineFrame("ETHUSDT", future, "7.00", true),
		klineFrame("BTCUSDT", future+60_000, "100.70", true),
		{Kind: 'r', Text: []byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}`)},
		klineFrame("BTCUSDT", future+60_000, "100.80", true), // a reconnect repeats it: the last wins
		klineFrame("BTCUSDT", future+120_000, "100.90", true),
	}
	other := []record.Line{klineFrame("BTCUSDT", future, "999.00", true)}
	srv := httptest.NewServer(New(Config{}, []Session{
		{URL: "ws://127.0.0.1:9100/binance/stream", Path: "/binance/stream", Frames: frames},
		{URL: "wss://fstream.binance.com/stream", Path: "/binance/stream", Frames: other}, // futures: its REST is not /api/v3
		{URL: "ws://127.0.0.1:9100/elsewhere/stream", Path: "/elsewhere/stream", Frames: other},
	}))
	defer srv.Close()
	rest := &binance.REST{Base: srv.URL + "/binance", HTTP: &upstream.HTTP{Venue: "binance", Client: srv.Client()}}
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		from, to int64
		want     []string // closes
	}{
		{"all", future, future + 180_000, []string{"100.6", "100.8", "100.9"}},
		{"from the second", future + 60_000, future + 180_000, []string{"100.8", "100.9"}},
		{"before the recording", future - 600_000, future, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs, err := rest.Candles(ctx, market.Default, c.from, c.to, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, k := range cs {
				got = append(got, k.Close.String())
				if k.State != market.Reconciled || k.OpenTime != c.from+int64(i)*60_000 && c.want != nil && c.from >= future {
					t.Errorf("candle %d: %+v", i, k)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("closes %v, want %v", got, c.want)
			}
		})
	}
	for path, want := range map[string]int{
		"/binance/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=2": http.StatusOK,
		"/binance/api/v3/klines?symbol=BTCUSDT&interval=5m":         http.StatusBadRequest,
		"/binance/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=x": http.StatusBadRequest,
		"/binance/api/v3/exchangeInfo":                              http.StatusNotFound,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
		if strings.Contains(path, "limit=2") && strings.Count(string(body), "[") != 3 {
			t.Errorf("GET %s: %s, want two rows", path, body)
		}
	}
}

// FuzzKlinesOf: any recorded frame is a kline or skipped, never a panic.
func FuzzKlinesOf(f *testing.F) {
	f.Add(klineFrame("BTCUSDT", 60_000, "1", true).Text)
	f.Add([]byte(`{"e":"kline","k":{"t":1,"s":"X","i":"1m","x":true}}`))
	f.Add([]byte(`{"data":{"data":{"e":"kline"}}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		klinesOf([]Session{{Frames: []record.Line{{Kind: 'r', Text: frame}}}})
	})
}
