package kraken

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

func FuzzFastMatchesDecode(f *testing.F) {
	f.Add([]byte(`{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":64203,"qty":"0.0002","ord_type":"limit","trade_id":1,"timestamp":"2026-11-29T10:27:00.241000Z"}]}`))
	f.Add([]byte(`{"channel":"ohlc","type":"snapshot","data":[{"symbol":"XBT/USD","open":1,"high":2,"low":0.5,"close":1.5,"trades":3,"volume":"2","vwap":1.2,"interval_begin":"2026-11-29T10:17:00.000000000Z","interval":1,"timestamp":"2026-11-29T10:18:00.000000Z"}]}`))
	f.Add([]byte(`[993,[["354.11000000","0.89594024","1618678142.557535","s","l",""]],"trade","XMR/USD"]`))
	for _, name := range []string{"KRAKEN.ws.48.0", "KRAKEN.ws.49.0", "KRAKEN.ws.50.0"} {
		for _, fr := range realdata.Distinct(realdata.Seeds(name, 10000), realdata.Has(`"trade"`)) {
			f.Add(fr)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		exchangetest.FastMatchesFull(t, data, d.fast, Decode)
	})
}

// TestFastPathTakesRealFrames: every real (v1) trade frame, and every v2
// trade and ohlc frame of the simulator's recording, takes the fast path to
// the full decoder's event.
func TestFastPathTakesRealFrames(t *testing.T) {
	var d Decoder
	exchangetest.FastTakes(t, v1Trades(t), d.fast, Decode)
	exchangetest.FastTakes(t, exchangetest.SimFrames(t, "kraken.sim.ws.zst", realdata.Has(`"channel":"trade","type"`)), d.fast, Decode, tradeShape)
	exchangetest.FastTakes(t, exchangetest.SimFrames(t, "kraken.sim.ws.zst", realdata.Has(`"channel":"ohlc","type"`)), d.fast, Decode, ohlcShape)
}

// v1Trades are the distinct trade frames of the three real (v1) sessions.
func v1Trades(t testing.TB) [][]byte {
	var all [][]byte
	for _, name := range []string{"KRAKEN.ws.48.0", "KRAKEN.ws.49.0", "KRAKEN.ws.50.0"} {
		all = append(all, realdata.Received(t, name)...)
	}
	out := realdata.Distinct(all, realdata.Has(`,"trade",`))
	if len(out) == 0 {
		t.Fatal("no v1 trade frames in the Kraken recordings")
	}
	return out
}

// TestSlowFramesAreNamed: a trade or ohlc push in a form the fast path does
// not read (type before channel) is decoded on the full path and named.
func TestSlowFramesAreNamed(t *testing.T) {
	slow := func(e Event) string { return e.Slow }
	var d Decoder
	exchangetest.SlowNamed(t, `{"type":"update","channel":"trade","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"trade_id":1,"timestamp":"2026-11-29T10:27:00.241000Z"}]}`, d.Decode, slow, "trade")
	exchangetest.SlowNamed(t, `{"type":"update","channel":"ohlc","data":[{"symbol":"BTC/USD","open":1,"high":2,"low":0.5,"close":1.5,"trades":3,"volume":2,"vwap":1.2,"interval_begin":"2026-11-29T10:17:00Z","interval":1}]}`, d.Decode, slow, "ohlc")
	exchangetest.SlowNamed(t, `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"trade_id":1,"timestamp":"2026-11-29T10:27:00.241000Z"}]}`, d.Decode, slow, "")
}
