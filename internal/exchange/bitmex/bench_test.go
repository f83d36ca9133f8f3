package bitmex

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

// BenchmarkFrames decodes every distinct real frame of each kind the feed
// uses, alone and into candles: the figures docs/benchmarks.md reports.
// tradeBin1m frames are the real WebSocket inserts quoted in
// bitmex-tradebin-quoted.jsonl (the partial comes once per subscription).
func BenchmarkFrames(b *testing.B) { exchangetest.BenchFrames(b, frameKinds(b)...) }

// TestFrameKinds runs every frame of BenchmarkFrames once.
func TestFrameKinds(t *testing.T) { exchangetest.CheckFrames(t, frameKinds(t)...) }

// frameKinds are the kinds of frame the feed uses, with their frames.
func frameKinds(tb testing.TB) []exchangetest.FrameKind {
	var bins [][]byte
	for _, q := range realdata.QuotedBins(tb) {
		if q.Kind == "ws" {
			bins = append(bins, []byte(q.Message))
		}
	}
	d := new(Decoder)
	return []exchangetest.FrameKind{
		exchangetest.Kind("trade", realdata.Frames(tb, "BITMEX.ws.1.0", realdata.Has(`"table":"trade","action":"insert"`)), Driver.Bins, d.Decode, apply),
		exchangetest.Kind("tradeBin1m", realdata.Distinct(bins, realdata.Has(`{"table":"tradeBin1m","action":"insert"`)), Driver.Bins, d.Decode, apply),
	}
}

// apply hands an event to the engines as the collector's sink does.
func apply(ev Event, cycle int, e *exchangetest.Engines) {
	e.Trades(cycle, ev.Trades)
	for _, c := range ev.Bins {
		e.Bin(cycle, c)
	}
}

// TestSlowFramesAreNamed: a trade or tradeBin1m insert in a form the fast
// path does not read (action before table) is decoded on the full path and
// named.
func TestSlowFramesAreNamed(t *testing.T) {
	slow := func(e Event) string { return e.Slow }
	var d Decoder
	exchangetest.SlowNamed(t, `{"action":"insert","table":"trade","data":[{"timestamp":"2021-07-22T22:36:11.685Z","symbol":"XBTUSD","side":"Buy","size":1,"price":2}]}`, d.Decode, slow, "trade")
	exchangetest.SlowNamed(t, `{"action":"insert","table":"tradeBin1m","data":[{"timestamp":"2021-07-22T22:37:00.000Z","symbol":"XBTUSD","open":1,"high":2,"low":1,"close":2,"trades":1,"volume":1}]}`, d.Decode, slow, "tradeBin1m")
	exchangetest.SlowNamed(t, tradeInsert, d.Decode, slow, "")
}
