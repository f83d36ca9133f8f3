package okx

import (
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		kind     Kind
		check    func(t *testing.T, e Event)
		bad      string
	}{
		{name: "trade (captured 2022)", kind: KindTrades,
			in: `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"338476307","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]}`,
			check: func(t *testing.T, e Event) {
				tr := e.Trades[0]
				if len(e.Trades) != 1 || tr.Market.String() != "okx:BTC-USDT" || tr.Time != 1652459224818 || !tr.Buy ||
					tr.Price.String() != "30236" || tr.Quote.String() != "6.0472" || tr.FirstSeq != 338476307 || tr.LastSeq != 338476307 {
					t.Fatalf("%+v", e.Trades)
				}
			}},
		{name: "swap trade: size in contracts, quote unknown", kind: KindTrades,
			in: `{"arg":{"channel":"trades","instId":"UNI-USD-SWAP"},"data":[{"instId":"UNI-USD-SWAP","tradeId":"5","px":"5.1","sz":"3","side":"sell","ts":"1","count":"2"}]}`,
			check: func(t *testing.T, e Event) {
				if tr := e.Trades[0]; tr.Buy || !tr.Quote.IsZero() || tr.Size.String() != "3" {
					t.Fatalf("%+v", tr)
				}
			}},
		{name: "candle, 9 fields, open", kind: KindCandles,
			in: `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1654154580000","29930.7","29936.3","29930.7","29936.3","0.0111536","333.86246417","333.86246417","0"]]}`,
			check: func(t *testing.T, e Event) {
				c := e.Candles[0]
				if c.State != market.Provisional || c.OpenTime != 1654154580000 || c.High.String() != "29936.3" ||
					c.Volume.String() != "0.0111536" || c.Quote.String() != "333.86246417" || c.Source != market.SourceKline {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "candle, 9 fields, confirmed", kind: KindCandles,
			in: `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1654154580000","1","2","0.5","1.5","10","15","15","1"]]}`,
			check: func(t *testing.T, e Event) {
				if e.Candles[0].State != market.Reconciled {
					t.Fatalf("%+v", e.Candles[0])
				}
			}},
		{name: "candle, 7 fields (2022 feed, quoted)", kind: KindCandles,
			in: `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1654154580000","29930.7","29936.3","29930.7","29936.3","0.0111536","333.86246417"]]}`,
			check: func(t *testing.T, e Event) {
				if c := e.Candles[0]; c.State != market.Provisional || c.Quote.String() != "333.86246417" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "subscribe ack (captured)", kind: KindReply, in: `{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USD-220527"}}`},
		{name: "error event", kind: KindError, in: `{"event":"error","code":"60018","msg":"Wrong URL or channel","connId":"a4d3ae55"}`,
			check: func(t *testing.T, e Event) {
				if e.Code != "60018" || e.Msg == "" {
					t.Fatalf("%+v", e)
				}
			}},
		{name: "pong", kind: KindPong, in: "pong"},
		{name: "ticker is not ours", kind: KindOther, in: `{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"last":"1"}]}`},
		{name: "5m candle is not ours", kind: KindOther, in: `{"arg":{"channel":"candle5m","instId":"BTC-USDT"},"data":[["1"]]}`},
		{name: "not json", in: `{"arg":`, bad: "cannot decode"},
		{name: "no data", in: `{"arg":{"channel":"trades","instId":"BTC-USDT"}}`, bad: "neither"},
		{name: "candle of 8 fields", in: `{"arg":{"channel":"candle1m","instId":"X-Y"},"data":[["60000","1","1","1","1","1","1","1"]]}`, bad: "8 fields"},
		{name: "candle not aligned", in: `{"arg":{"channel":"candle1m","instId":"X-Y"},"data":[["60001","1","1","1","1","1","1"]]}`, bad: "not aligned"},
		{name: "candle high below low", in: `{"arg":{"channel":"candle1m","instId":"X-Y"},"data":[["60000","1","1","2","1","1","1"]]}`, bad: "below low"},
		{name: "trade with a bad side", in: `{"arg":{"channel":"trades","instId":"X-Y"},"data":[{"instId":"X-Y","tradeId":"1","px":"1","sz":"1","side":"up","ts":"1"}]}`, bad: "invalid fields"},
		{name: "trade with a bad price", in: `{"arg":{"channel":"trades","instId":"X-Y"},"data":[{"instId":"X-Y","tradeId":"1","px":"1e","sz":"1","side":"buy","ts":"1"}]}`, bad: "trade X-Y 1"},
		{name: "trade without id", in: `{"arg":{"channel":"trades","instId":"X-Y"},"data":[{"instId":"X-Y","px":"1","sz":"1","side":"buy","ts":"1"}]}`, bad: "trade X-Y"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Decode([]byte(tc.in))
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err %v, want one containing %q", err, tc.bad)
				}
				return
			}
			if err != nil || e.Kind != tc.kind {
				t.Fatalf("kind %v err %v, want kind %v", e.Kind, err, tc.kind)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

// TestDecodeRealSession decodes OKX's recorded public session: every
// trades frame decodes, trade ids run on by one per instrument, and the
// other channels are recognised as not ours.
func TestDecodeRealSession(t *testing.T) {
	counts := map[Kind]int{}
	last := map[string]int64{}
	var d Decoder
	for _, f := range realdata.Received(t, "OKX.ws.1.0") {
		e, err := d.Decode(f)
		if err != nil {
			t.Fatalf("real frame failed: %v\n%s", err, f)
		}
		counts[e.Kind]++
		for _, tr := range e.Trades {
			if prev, ok := last[tr.Market.Symbol]; ok && tr.FirstSeq != prev+1 {
				t.Errorf("%s: trade id %d after %d", tr.Market, tr.FirstSeq, prev)
			}
			last[tr.Market.Symbol] = tr.LastSeq
		}
	}
	if counts[KindTrades] == 0 || counts[KindReply] == 0 || counts[KindOther] == 0 {
		t.Fatalf("kinds decoded: %v", counts)
	}
	t.Logf("OKX.ws.1.0: %v trade frames over %d instruments, %d acks, %d other", counts[KindTrades], len(last), counts[KindReply], counts[KindOther])
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}`))
	f.Add([]byte(`{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["60000","1","2","0.5","1.5","10","15","15","1"]]}`))
	f.Add([]byte(`{"event":"error","code":"1","msg":"x"}`))
	f.Add([]byte("pong"))
	for _, fr := range realdata.Seeds("OKX.ws.1.0", 80) {
		f.Add(fr)
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := d.Decode(data)
		if err != nil {
			return
		}
		for _, c := range e.Candles {
			if err := c.Validate(); err != nil || c.Market.Venue != Venue {
				t.Fatalf("decoded an invalid candle %+v: %v", c, err)
			}
		}
		for _, tr := range e.Trades {
			if tr.Price.Sign() <= 0 || tr.Size.Sign() <= 0 || tr.FirstSeq <= 0 || tr.Market.Symbol == "" {
				t.Fatalf("decoded an invalid trade %+v", tr)
			}
		}
	})
}
