package coinbase

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

func FuzzFastMatchesDecode(f *testing.F) {
	f.Add([]byte(`{"type":"match","trade_id":1,"side":"buy","size":"1","price":"2","product_id":"BTC-USD","time":"2021-04-17T16:43:37.089723Z"}`))
	f.Add([]byte(`{"type":"heartbeat","sequence":1,"last_trade_id":5,"product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}`))
	f.Add([]byte(`{"type":"match","trade_id":1,"side":"sell","size":1,"price":"0002","product_id":"BTC-USD","time":"2021-04-17T16:43:37Z","Type":"x"}`))
	for _, fr := range realdata.Distinct(realdata.Seeds("COINBASE.ws.28.0", 100000), realdata.Has(`"match"`)) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		exchangetest.FastMatchesFull(t, data, d.fast, Decode)
	})
}

// TestFastPathTakesRealFrames: every real match frame takes the fast path
// to the full decoder's event, and so does every heartbeat of the
// simulator (the real recording has none).
func TestFastPathTakesRealFrames(t *testing.T) {
	var d Decoder
	exchangetest.FastTakes(t, realdata.Frames(t, "COINBASE.ws.28.0", realdata.Has(`"type":"match"`)), d.fast, Decode, frameShape)
	exchangetest.FastTakes(t, exchangetest.SimFrames(t, "coinbase.sim.ws.zst", realdata.Has(`"type":"heartbeat"`)), d.fast, Decode) // a second apart: their key order is not worth a shape of its own
}

// TestSlowFramesAreNamed: a match or heartbeat in a form the fast path does
// not read (a size given as a number) is decoded on the full path and
// named.
func TestSlowFramesAreNamed(t *testing.T) {
	slow := func(e Event) string { return e.Slow }
	var d Decoder
	exchangetest.SlowNamed(t, `{"type":"match","trade_id":1,"side":"buy","size":1,"price":"2","product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}`, d.Decode, slow, "match")
	exchangetest.SlowNamed(t, `{"type":"heartbeat","last_trade_id":5,"product_id":"BTC-USD","time":"2021-04-17T16:43:37+00:00"}`, d.Decode, slow, "heartbeat")
	exchangetest.SlowNamed(t, `{"type":"match","trade_id":1,"side":"buy","size":"1","price":"2","product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}`, d.Decode, slow, "")
}
