package binance

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct real frame of each kind the feed
// uses, alone and into candles: the figures docs/benchmarks.md reports.
func BenchmarkFrames(b *testing.B) {
	d := new(Decoder)
	exchangetest.BenchFrames(b,
		exchangetest.Kind("aggTrade", frames(b, `"e":"aggTrade"`), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("kline", frames(b, `"e":"kline"`), Driver.Bins, d.Decode, apply))
}

// frames are the distinct frames of a kind in both recordings, spot and
// USD-M futures.
func frames(b *testing.B, kind string) [][]byte {
	out := realdata.Frames(b, "BINANCE.ws.1.0", realdata.Has(kind))
	return append(out, realdata.Frames(b, "BINANCE_FUTURES.ws.1.0", realdata.Has(kind))...)
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
