package okx

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct real frame of each kind the feed
// uses, alone and into candles: the figures docs/benchmarks.md reports. The
// real recording has no candle1m frames; those come from the simulator's
// (exchangetest/testdata).
func BenchmarkFrames(b *testing.B) { exchangetest.BenchFrames(b, frameKinds(b)...) }

// TestFrameKinds runs every frame of BenchmarkFrames once.
func TestFrameKinds(t *testing.T) { exchangetest.CheckFrames(t, frameKinds(t)...) }

// frameKinds are the kinds of frame the feed uses, with their frames.
func frameKinds(tb testing.TB) []exchangetest.FrameKind {
	d := new(Decoder)
	return []exchangetest.FrameKind{
		exchangetest.Kind("trades", realdata.Frames(tb, "OKX.ws.1.0", realdata.Has(`"channel":"trades"`, `"data"`)), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("candle1m(sim)", exchangetest.SimFrames(tb, "okx-business.sim.ws.zst", realdata.Has(`"channel":"candle1m"`, `"data"`)), Driver.Bins, d.Decode, apply),
	}
}

// apply hands an event to the engines as the collector's sink does.
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	e.Trades(cycle, ev.Trades)
	for _, c := range ev.Candles {
		e.Bin(cycle, c)
	}
}
