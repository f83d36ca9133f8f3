package binance

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	cases := []exchangetest.DecodeCase[Event, Kind]{
		{Name: "open kline (captured)", Kind: KindKline,
			In: `{"stream":"nknusdt@kline_1m","data":{"e":"kline","E":1633998523963,"s":"NKNUSDT","k":{"t":1633998480000,"T":1633998539999,"s":"NKNUSDT","i":"1m","f":19862761,"L":19862790,"o":"0.35270000","c":"0.35280000","h":"0.35280000","l":"0.35220000","v":"25877.00000000","n":30,"x":false,"q":"9116.04600000","V":"58.00000000","Q":"20.46240000","B":"0"}}}`,
			Check: func(t *testing.T, e Event) {
				c := e.Candle
				if c.State != market.Provisional || c.OpenTime != 1633998480000 || c.Low.String() != "0.3522" ||
					c.Volume.String() != "25877" || c.Quote.String() != "9116.046" || c.Trades != 30 || c.LastSeq != 19862790 {
					t.Fatalf("%+v", c)
				}
			}},
		{Name: "closed empty kline (captured, Binance TR)", Kind: KindKline,
			In: `{"stream":"belbtc@kline_1m","data":{"e":"kline","E":1681154040004,"s":"BELBTC","k":{"t":1681153980000,"T":1681154039999,"s":"BELBTC","i":"1m","f":-1,"L":-1,"o":"0.00002369","c":"0.00002369","h":"0.00002369","l":"0.00002369","v":"0.00000000","n":0,"x":true,"q":"0.00000000","V":"0.00000000","Q":"0.00000000","B":"0"}}}`,
			Check: func(t *testing.T, e Event) {
				if e.Candle.State != market.Reconciled || e.Candle.Trades != 0 || e.Candle.LastSeq != 0 || !e.Candle.Volume.IsZero() {
					t.Fatalf("%+v", e.Candle)
				}
			}},
		{Name: "aggTrade (captured)", Kind: KindTrade,
			In: `{"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}`,
			Check: func(t *testing.T, e Event) {
				tr := e.Trade
				if tr.Market.String() != "binance:NKNUSDT" || tr.Price.String() != "0.3528" || tr.Quote.String() != "20.4624" || tr.FirstSeq != 19862790 {
					t.Fatalf("%+v", tr)
				}
			}},
		{Name: "raw stream event", Kind: KindTrade,
			In: `{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":5,"l":6,"T":7,"m":true,"M":true}`},
		{Name: "subscribe reply", Kind: KindReply, In: `{"result":null,"id":7}`,
			Check: func(t *testing.T, e Event) {
				if e.ID != 7 {
					t.Fatal(e.ID)
				}
			}},
		{Name: "server shutdown", Kind: KindShutdown, In: `{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1700000000000}}`},
		{Name: "unused stream", Kind: KindOther, In: `{"stream":"x@bookTicker","data":{"u":1,"s":"X"}}`},
		{Name: "3m kline is not ours", Kind: KindOther, In: `{"data":{"e":"kline","E":1,"s":"X","k":{"i":"3m"}}}`},
		{Name: "error reply", In: `{"code":2,"msg":"Invalid request"}`, Bad: "error reply 2"},
		{Name: "not json", In: `{"stream":`, Bad: "cannot decode"},
		{Name: "bad price", In: `{"data":{"e":"aggTrade","s":"X","a":1,"p":"x1","q":"1","f":1,"l":1,"T":1}}`, Bad: "invalid decimal"},
		{Name: "negative price", In: `{"data":{"e":"aggTrade","s":"X","a":1,"p":"-1","q":"1","f":1,"l":1,"T":1}}`, Bad: "invalid fields"},
		{Name: "kline high below low", In: `{"data":{"e":"kline","k":{"t":60000,"T":119999,"s":"X","i":"1m","o":"1","c":"1","h":"1","l":"2","v":"0","q":"0"}}}`, Bad: "below low"},
		{Name: "kline misaligned", In: `{"data":{"e":"kline","k":{"t":60001,"T":120000,"s":"X","i":"1m","o":"1","c":"1","h":"1","l":"1","v":"0","q":"0"}}}`, Bad: "not aligned"},
		{Name: "empty object", In: `{}`, Bad: "no event"},
	}
	exchangetest.RunDecode(t, Decode, func(e Event) Kind { return e.Kind }, ErrDecode, cases)
}

// TestDecodeRealSessions decodes every frame of real recorded sessions: no
// kline or aggTrade frame may fail, and closed klines must be found.
func TestDecodeRealSessions(t *testing.T) {
	for _, name := range []string{"BINANCE.ws.1.0", "BINANCE_FUTURES.ws.1.0"} {
		t.Run(name, func(t *testing.T) {
			counts := map[Kind]int{}
			final := 0
			for _, f := range realdata.Received(t, name) {
				e, err := Decode(f)
				if err != nil {
					if strings.Contains(string(f), `"kline"`) || strings.Contains(string(f), `"aggTrade"`) {
						t.Fatalf("real frame failed: %v\n%s", err, f)
					}
					continue
				}
				counts[e.Kind]++
				if e.Kind == KindKline && e.Candle.State == market.Reconciled {
					final++
				}
			}
			if counts[KindKline] == 0 || counts[KindTrade] == 0 {
				t.Fatalf("no klines or trades decoded: %v", counts)
			}
			if name == "BINANCE_FUTURES.ws.1.0" && final == 0 {
				t.Fatal("no closed kline found in a session that has them")
			}
			t.Logf("%s: %d klines (%d closed), %d trades, %d other", name, counts[KindKline], final, counts[KindTrade], counts[KindOther])
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1.5","q":"2","f":1,"l":2,"T":3,"m":true,"M":true}}`))
	f.Add([]byte(`{"data":{"e":"kline","E":1,"s":"X","k":{"t":60000,"T":119999,"s":"X","i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"0","n":0,"x":true,"q":"0"}}}`))
	f.Add([]byte(`{"result":null,"id":1}`))
	for _, fr := range realdata.Seeds("BINANCE.ws.1.0", 60) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data)
		if err != nil {
			return
		}
		switch e.Kind {
		case KindKline:
			if err := e.Candle.Validate(); err != nil {
				t.Fatalf("decoded an invalid candle: %v", err)
			}
		case KindTrade:
			if e.Trade.Price.Sign() <= 0 || e.Trade.LastSeq < e.Trade.FirstSeq {
				t.Fatalf("decoded an invalid trade: %+v", e.Trade)
			}
		}
	})
}

func FuzzDecodeKlines(f *testing.F) {
	f.Add([]byte(`[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499040059999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[[1,"1"]]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := DecodeKlines(market.Default, body, 0)
		if err != nil {
			return
		}
		for _, c := range cs {
			if err := c.Validate(); err != nil {
				t.Fatalf("decoded an invalid candle: %v", err)
			}
		}
	})
}

func BenchmarkDecodeAggTrade(b *testing.B) {
	frame := []byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"BTCUSDT","a":15683430,"p":"64321.57000000","q":"0.00058000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i++ {
		if _, err := Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeKline(b *testing.B) {
	frame := []byte(`{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1633998523963,"s":"BTCUSDT","k":{"t":1633998480000,"T":1633998539999,"s":"BTCUSDT","i":"1m","f":19862761,"L":19862790,"o":"64321.57000000","c":"64322.00000000","h":"64330.10000000","l":"64300.00000000","v":"25.87700000","n":30,"x":false,"q":"1664400.04600000","V":"5.80000000","Q":"373084.62400000","B":"0"}}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i++ {
		if _, err := Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzFastMatchesDecode: whatever the Decoder's fast path accepts, Decode
// accepts too and decodes to the same event.
func FuzzFastMatchesDecode(f *testing.F) {
	f.Add([]byte(aggTradeFrame))
	f.Add([]byte(`{"stream":"x","data":{"e":"aggTrade","E":1,"s":"bTc","a":1,"p":"1e-3","q":"2","f":1,"l":2,"T":3,"m":true,"M":false}}`))
	for _, fr := range realdata.Seeds("BINANCE.ws.1.0", 60) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		fast, ok := d.fast(data)
		if !ok {
			return
		}
		slow, err := Decode(data)
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast path %+v, Decode %+v %v", fast, slow, err)
		}
	})
}

// TestFastPathTakesRealFrames: every real aggTrade and kline frame goes
// through the fast path, to the same event as Decode.
func TestFastPathTakesRealFrames(t *testing.T) {
	for _, rec := range []string{"BINANCE.ws.1.0", "BINANCE_FUTURES.ws.1.0"} {
		for _, kind := range []string{`"e":"aggTrade"`, `"e":"kline"`} {
			var d Decoder
			frames := realdata.Frames(t, rec, realdata.Has(kind))
			exchangetest.FastTakes(t, frames, d.fast, Decode, klineBodyShape)
			t.Logf("%s: %d %s frames", rec, len(frames), kind)
		}
	}
}

const aggTradeFrame = `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"BTCUSDT","a":15683430,"p":"64321.57000000","q":"0.00058000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}`

// BenchmarkAggTradeToCandle is the hot path: one aggTrade frame decoded by
// the feed's Decoder and applied to the market's candle engine.
func BenchmarkAggTradeToCandle(b *testing.B) {
	frames := make([][]byte, 64)
	for i := range frames { // prices and times move, so candles change and minutes roll
		frames[i] = []byte(strings.NewReplacer("64321.57", fmt.Sprintf("64%03d.%02d", i*7%1000, i), "1633998523963", fmt.Sprint(1633998523963+int64(i)*937)).Replace(aggTradeFrame))
	}
	var d Decoder
	eng := candle.NewEngine(market.Default)
	b.ReportAllocs()
	b.SetBytes(int64(len(frames[0])))
	seq := int64(0)
	for i := 0; b.Loop(); i++ {
		e, err := d.Decode(frames[i%len(frames)])
		if err != nil || e.Kind != KindTrade {
			b.Fatal(err)
		}
		seq++
		e.Trade.FirstSeq, e.Trade.LastSeq = seq, seq
		e.Trade.Time += int64(i/len(frames)) * 60_000
		eng.Trade(e.Trade)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkDecoderAggTrade is the Decoder (fast path) alone, to compare with the full
// decoder's benchmark above.
func BenchmarkDecoderAggTrade(b *testing.B) {
	frame := []byte(aggTradeFrame)
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := d.Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}
