package coinbase

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct real match frame, alone and into
// candles: the figures docs/benchmarks.md reports. Coinbase has no candle
// channel; candles are built from matches.
func BenchmarkFrames(b *testing.B) { exchangetest.BenchFrames(b, frameKinds(b)...) }

// TestFrameKinds runs every frame of BenchmarkFrames once.
func TestFrameKinds(t *testing.T) { exchangetest.CheckFrames(t, frameKinds(t)...) }

// frameKinds are the kinds of frame the feed uses, with their frames.
func frameKinds(tb testing.TB) []exchangetest.FrameKind {
	d := new(Decoder)
	return []exchangetest.FrameKind{
		exchangetest.Kind("match", realdata.Frames(tb, "COINBASE.ws.28.0", realdata.Has(`"type":"match"`)), Driver.Bins, d.Decode, apply),
	}
}

// apply hands a match to the engines as the collector's sink does.
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	if ev.Kind == KindMatch {
		e.Trade(cycle, ev.Trade)
	}
}
