package okx

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

func FuzzFastMatchesDecode(f *testing.F) {
	f.Add([]byte(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}`))
	f.Add([]byte(`{"arg":{"channel":"trades","instId":"BTC-USD-SWAP"},"data":[{"instId":"BTC-USD-SWAP","tradeId":"+2","px":"1e1","sz":"1","side":"sell","ts":"1","count":"3"},{"instId":"btc-usd-swap","tradeId":"3","px":"1","sz":"1","side":"buy","ts":"2","Px":"1"}]}`))
	f.Add([]byte(`{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["60000","1","2","0.5","1.5","10","15","15","1"]]}`))
	f.Add([]byte(`{"arg":{"channel":"candle1m","instId":"ETH-USD-SWAP"},"data":[["120000","1","2","0.5","1.5","10","15"]]}`))
	for _, fr := range realdata.Distinct(realdata.Seeds("OKX.ws.1.0", 1000), realdata.Has(`"channel":"trades"`)) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		exchangetest.FastMatchesFull(t, data, d.fast, Decode)
	})
}

// TestFastPathTakesRealFrames: every real trades frame, and every candle1m
// frame of the simulator's recording, takes the fast path to the full
// decoder's event.
func TestFastPathTakesRealFrames(t *testing.T) {
	var d Decoder
	exchangetest.FastTakes(t, realdata.Frames(t, "OKX.ws.1.0", realdata.Has(`"channel":"trades"`, `"data"`)), d.fast, Decode, argShape, tradeShape)
	exchangetest.FastTakes(t, exchangetest.SimFrames(t, "okx-business.sim.ws.zst", realdata.Has(`"channel":"candle1m"`, `"data"`)), d.fast, Decode, argShape)
}

// TestSlowFramesAreNamed: a trades or candle1m push in a form the fast path
// does not read (data before arg) is decoded on the full path and named.
func TestSlowFramesAreNamed(t *testing.T) {
	slow := func(e Event) string { return e.Slow }
	var d Decoder
	exchangetest.SlowNamed(t, `{"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}],"arg":{"channel":"trades","instId":"BTC-USDT"}}`, d.Decode, slow, "trades")
	exchangetest.SlowNamed(t, `{"data":[["60000","1","2","0.5","1.5","10","15","15","1"]],"arg":{"channel":"candle1m","instId":"BTC-USDT"}}`, d.Decode, slow, "candle1m")
	exchangetest.SlowNamed(t, `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}`, d.Decode, slow, "")
}
