package okx

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	cases := []exchangetest.DecodeCase[Event, Kind]{
		{Name: "trade (captured 2022)", Kind: KindTrades,
			In: `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"338476307","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]}`,
			Check: func(t *testing.T, e Event) {
				tr := e.Trades[0]
				if len(e.Trades) != 1 || tr.Market.String() != "okx:BTC-USDT" || tr.Time != 1652459224818 || !tr.Buy ||
					tr.Price.String() != "30236" || tr.Quote.String() != "6.0472" || tr.FirstSeq != 338476307 || tr.LastSeq != 338476307 {
					t.Fatalf("%+v", e.Trades)
				}
			}},
		{Name: "swap trade: size in contracts, quote unknown", Kind: KindTrades,
			In: `{"arg":{"channel":"trades","instId":"UNI-USD-SWAP"},"data":[{"instId":"UNI-USD-SWAP","tradeId":"5","px":"5.1","sz":"3","side":"sell","ts":"1","count":"2"}]}`,
			Check: func(t *testing.T, e Event) {
				if tr := e.Trades[0]; tr.Buy || !tr.Quote.IsZero() || tr.Size.String() != "3" {
					t.Fatalf("%+v", tr)
				}
			}},
		{Name: "candle, 9 fields, open", Kind: KindCandles,
			In: `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1654154580000","29930.7","29936.3","29930.7","29936.3","0.0111536","333.86246417","333.86246417","0"]]}`,
			Check: func(t *testing.T, e Event) {
				c := e.Candles[0]
				if c.State != market.Provisional || c.OpenTime != 1654154580000 || c.High.String() != "29936.3" ||
					c.Volume.String() != "0.0111536" || c.Quote.String() != "333.86246417" || c.Source != market.SourceKline {
					t.Fatalf("%+v", c)
				}
			}},
		{Name: "candle, 9 fields, confirmed", Kind: KindCandles,
			In: `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1654154580000","1","2","0.5","1.5","10","15","15","1"]]}`,
			Check: func(t *testing.T, e Event) {
				if e.Candles[0].State != market.Reconciled {
					t.Fatalf("%+v", e.Candles[0])
				}
			}},
		{Name: "candle, 7 fields (2022 feed, quoted)", Kind: KindCandles,
			In: `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1654154580000","29930.7","29936.3","29930.7","29936.3","0.0111536","333.86246417"]]}`,
			Check: func(t *testing.T, e Event) {
				if c := e.Candles[0]; c.State != market.Provisional || c.Quote.String() != "333.86246417" {
					t.Fatalf("%+v", c)
				}
			}},
		{Name: "subscribe ack (captured)", Kind: KindReply, In: `{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USD-220527"}}`},
		{Name: "error event", Kind: KindError, In: `{"event":"error","code":"60018","msg":"Wrong URL or channel","connId":"a4d3ae55"}`,
			Check: func(t *testing.T, e Event) {
				if e.Code != "60018" || e.Msg == "" {
					t.Fatalf("%+v", e)
				}
			}},
		{Name: "pong", Kind: KindPong, In: "pong"},
		{Name: "ticker is not ours", Kind: KindOther, In: `{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"last":"1"}]}`},
		{Name: "5m candle is not ours", Kind: KindOther, In: `{"arg":{"channel":"candle5m","instId":"BTC-USDT"},"data":[["1"]]}`},
		{Name: "not json", In: `{"arg":`, Bad: "cannot decode"},
		{Name: "no data", In: `{"arg":{"channel":"trades","instId":"BTC-USDT"}}`, Bad: "neither"},
		{Name: "candle of 8 fields", In: `{"arg":{"channel":"candle1m","instId":"X-Y"},"data":[["60000","1","1","1","1","1","1","1"]]}`, Bad: "8 fields"},
		{Name: "candle not aligned", In: `{"arg":{"channel":"candle1m","instId":"X-Y"},"data":[["60001","1","1","1","1","1","1"]]}`, Bad: "not aligned"},
		{Name: "candle high below low", In: `{"arg":{"channel":"candle1m","instId":"X-Y"},"data":[["60000","1","1","2","1","1","1"]]}`, Bad: "below low"},
		{Name: "trade with a bad side", In: `{"arg":{"channel":"trades","instId":"X-Y"},"data":[{"instId":"X-Y","tradeId":"1","px":"1","sz":"1","side":"up","ts":"1"}]}`, Bad: "invalid fields"},
		{Name: "trade with a bad price", In: `{"arg":{"channel":"trades","instId":"X-Y"},"data":[{"instId":"X-Y","tradeId":"1","px":"1e","sz":"1","side":"buy","ts":"1"}]}`, Bad: "trade X-Y 1"},
		{Name: "trade without id", In: `{"arg":{"channel":"trades","instId":"X-Y"},"data":[{"instId":"X-Y","px":"1","sz":"1","side":"buy","ts":"1"}]}`, Bad: "trade X-Y"},
	}
	exchangetest.RunDecode(t, Decode, func(e Event) Kind { return e.Kind }, nil, cases)
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
