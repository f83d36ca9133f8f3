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
func BenchmarkFrames(b *testing.B) { exchangetest.BenchFrames(b, frameKinds(b)...) }

// TestFrameKinds runs every frame of BenchmarkFrames once.
func TestFrameKinds(t *testing.T) { exchangetest.CheckFrames(t, frameKinds(t)...) }

// frameKinds are the kinds of frame the feed uses, with their frames.
func frameKinds(tb testing.TB) []exchangetest.FrameKind {
	d := new(Decoder)
	return []exchangetest.FrameKind{
		exchangetest.Kind("trade(v1)", v1Trades(tb), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("trade(sim)", exchangetest.SimFrames(tb, "kraken.sim.ws.zst", realdata.Has(`"channel":"trade","type"`)), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("ohlc(sim)", exchangetest.SimFrames(tb, "kraken.sim.ws.zst", realdata.Has(`"channel":"ohlc","type"`)), Driver.Bins, d.Decode, apply),
	}
}

// apply hands an event to the engines as the collector's sink does: the
// feed hands on trades one at a time (the quiet minutes a trade closes
// come after it).
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	for _, t := range ev.Trades {
		e.Trade(cycle, t)
	}
	for _, c := range ev.Candles {
		e.Bin(cycle, c)
	}
}
