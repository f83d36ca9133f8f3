package bybit

import (
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/realdata"
)

func FuzzFastMatchesDecode(f *testing.F) {
	f.Add([]byte(`{"topic":"publicTrade.BTCUSDT","ts":1,"type":"snapshot","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"0.1","p":"2","i":"x","BT":false}]}`))
	f.Add([]byte(`{"topic":"kline.1.BTCUSDT","ts":1,"type":"snapshot","data":[{"start":60000,"end":119999,"interval":"1","open":"1","close":"1.5","high":"2","low":"0.5","volume":"3","turnover":"4","confirm":true,"timestamp":1}]}`))
	f.Add([]byte(`{"op":"pong","ret_msg":"pong"}`))
	for _, fr := range exchangetest.SimFrames(f, "bybit.sim.ws.zst", func([]byte) bool { return true })[:40] {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		exchangetest.FastMatchesFull(t, data, d.fast, Decode)
	})
}

// TestFastPathTakesRealFrames: every publicTrade and kline frame of the
// simulator's recording (the real Bybit recording is of the older API)
// takes the fast path to the full decoder's event.
func TestFastPathTakesRealFrames(t *testing.T) {
	var d Decoder
	exchangetest.FastTakes(t, exchangetest.SimFrames(t, "bybit.sim.ws.zst", realdata.Has(`"topic":"publicTrade.`)), d.fast, Decode, tradeShape)
	exchangetest.FastTakes(t, exchangetest.SimFrames(t, "bybit.sim.ws.zst", realdata.Has(`"topic":"kline.1.`)), d.fast, Decode, klineShape)
}

// TestSlowFramesAreNamed: a publicTrade or kline push in a form the fast
// path does not read (data before topic) is decoded on the full path and
// named.
func TestSlowFramesAreNamed(t *testing.T) {
	slow := func(e Event) string { return e.Slow }
	var d Decoder
	exchangetest.SlowNamed(t, `{"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"0.1","p":"2","i":"x"}],"topic":"publicTrade.BTCUSDT"}`, d.Decode, slow, "publicTrade")
	exchangetest.SlowNamed(t, `{"data":[{"start":60000,"end":119999,"interval":"1","open":"1","close":"1.5","high":"2","low":"0.5","volume":"3","turnover":"4","confirm":true}],"topic":"kline.1.BTCUSDT"}`, d.Decode, slow, "kline")
	exchangetest.SlowNamed(t, `{"topic":"publicTrade.BTCUSDT","data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"0.1","p":"2","i":"x"}]}`, d.Decode, slow, "")
}
