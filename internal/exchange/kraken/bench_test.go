package kraken

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct frame of each kind the feed uses,
// alone and into candles: the figures docs/benchmarks.md reports. The real
// Kraken recordings are v1 trades (kept as "trade(v1)"); the feed speaks v2,
// whose trade and ohlc frames come from the simulator's recording
// (exchangetest/testdata).
func BenchmarkFrames(b *testing.B) {
	d := new(Decoder)
	exchangetest.BenchFrames(b,
		exchangetest.Kind("trade(v1)", v1Trades(b), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("trade(sim)", exchangetest.SimFrames(b, "kraken.sim.ws.zst", realdata.Has(`"channel":"trade","type"`)), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("ohlc(sim)", exchangetest.SimFrames(b, "kraken.sim.ws.zst", realdata.Has(`"channel":"ohlc","type"`)), Driver.Bins, d.Decode, apply))
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
