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
func BenchmarkFrames(b *testing.B) { exchangetest.BenchFrames(b, frameKinds(b)...) }

// TestFrameKinds runs every frame of BenchmarkFrames once.
func TestFrameKinds(t *testing.T) { exchangetest.CheckFrames(t, frameKinds(t)...) }

// frameKinds are the kinds of frame the feed uses, with their frames.
func frameKinds(tb testing.TB) []exchangetest.FrameKind {
	d := new(Decoder)
	return []exchangetest.FrameKind{
		exchangetest.Kind("publicTrade(sim)", exchangetest.SimFrames(tb, "bybit.sim.ws.zst", realdata.Has(`"topic":"publicTrade.`)), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("kline(sim)", exchangetest.SimFrames(tb, "bybit.sim.ws.zst", realdata.Has(`"topic":"kline.1.`)), Driver.Bins, d.Decode, apply),
	}
}

// apply hands an event to the engines as the collector's sink does.
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	e.Trades(cycle, ev.Trades)
	for _, c := range ev.Candles {
		e.Bin(cycle, c)
	}
}
