package binance

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct real frame of each kind the feed
// uses, alone and into candles: the figures docs/benchmarks.md reports.
func BenchmarkFrames(b *testing.B) { exchangetest.BenchFrames(b, frameKinds(b)...) }

// TestFrameKinds runs every frame of BenchmarkFrames once.
func TestFrameKinds(t *testing.T) { exchangetest.CheckFrames(t, frameKinds(t)...) }

// frameKinds are the kinds of frame the feed uses, with their frames.
func frameKinds(tb testing.TB) []exchangetest.FrameKind {
	d := new(Decoder)
	return []exchangetest.FrameKind{
		exchangetest.Kind("aggTrade", frames(tb, `"e":"aggTrade"`), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("kline", frames(tb, `"e":"kline"`), Driver.Bins, d.Decode, apply),
	}
}

// frames are the distinct frames of a kind in both recordings, spot and
// USD-M futures.
func frames(tb testing.TB, kind string) [][]byte {
	out := realdata.Frames(tb, "BINANCE.ws.1.0", realdata.Has(kind))
	return append(out, realdata.Frames(tb, "BINANCE_FUTURES.ws.1.0", realdata.Has(kind))...)
}

// apply hands an event to the engines as the collector's sink does.
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	switch ev.Kind {
	case KindTrade:
		e.Trade(cycle, ev.Trade)
	case KindKline:
		e.Bin(cycle, ev.Candle)
	}
}

// TestSlowFramesAreNamed: an aggTrade or kline in a form the fast path does
// not read (a key it does not know) is decoded on the full path and named.
func TestSlowFramesAreNamed(t *testing.T) {
	slow := func(e Event) string { return e.Slow }
	var d Decoder
	exchangetest.SlowNamed(t, `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":false,"Z":0}}`, d.Decode, slow, "aggTrade")
	exchangetest.SlowNamed(t, `{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":60000,"T":119999,"s":"BTCUSDT","i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1","B":"0","Z":0}}}`, d.Decode, slow, "kline")
	exchangetest.SlowNamed(t, aggTradeFrame, d.Decode, slow, "")
}
