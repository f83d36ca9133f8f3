package coinbase

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct real match frame, alone and into
// candles: the figures docs/benchmarks.md reports. Coinbase has no candle
// channel; candles are built from matches.
func BenchmarkFrames(b *testing.B) {
	d := new(Decoder)
	exchangetest.BenchFrames(b,
		exchangetest.Kind("match", realdata.Frames(b, "COINBASE.ws.28.0", realdata.Has(`"type":"match"`)), Driver.Bins, d.Decode, apply))
}

// apply hands a match to the engines as the collector's sink does.
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	if ev.Kind == KindMatch {
		e.Trade(cycle, ev.Trade)
	}
}
