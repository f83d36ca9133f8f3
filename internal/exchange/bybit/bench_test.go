package bybit

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct frame of each kind the feed uses,
// alone and into candles: the figures docs/benchmarks.md reports. The real
// Bybit recording is of the older API (topic trade.SYMBOL), which the feed
// does not use, so both v5 kinds come from the simulator's recording
// (exchangetest/testdata).
func BenchmarkFrames(b *testing.B) {
	d := new(Decoder)
	exchangetest.BenchFrames(b,
		exchangetest.Kind("publicTrade(sim)", exchangetest.SimFrames(b, "bybit.sim.ws.zst", realdata.Has(`"topic":"publicTrade.`)), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("kline(sim)", exchangetest.SimFrames(b, "bybit.sim.ws.zst", realdata.Has(`"topic":"kline.1.`)), Driver.Bins, d.Decode, apply))
}

// apply hands an event to the engines as the collector's sink does.
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	for _, t := range ev.Trades {
		e.Trade(cycle, t)
	}
	for _, c := range ev.Candles {
		e.Bin(cycle, c)
	}
}
