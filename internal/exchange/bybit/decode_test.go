package bybit

import (
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	cases := []exchangetest.DecodeCase[Event, Kind]{
		{Name: "kline (captured 2024, quoted)", Kind: KindKline,
			In: `{"type":"snapshot","topic":"kline.1.BTCUSDT","data":[{"start":1714102140000,"end":1714102199999,"interval":"1","open":"50803.82","close":"50803.82","high":"50803.84","low":"50803.82","volume":"0.51374","turnover":"26099.95921086","confirm":false,"timestamp":1714102192562}],"ts":1714102192562}`,
			Check: func(t *testing.T, e Event) {
				c := e.Candles[0]
				if c.Market.String() != "bybit:BTCUSDT" || c.OpenTime != 1714102140000 || c.State != market.Provisional ||
					c.High.String() != "50803.84" || c.Volume.String() != "0.51374" || c.Quote.String() != "26099.95921086" {
					t.Fatalf("%+v", c)
				}
			}},
		{Name: "confirmed kline", Kind: KindKline,
			In: `{"topic":"kline.1.ETHUSDT","data":[{"start":60000,"end":119999,"interval":"1","open":"1","close":"2","high":"2","low":"1","volume":"3","turnover":"4.5","confirm":true,"timestamp":119000}],"ts":120001,"type":"snapshot"}`,
			Check: func(t *testing.T, e Event) {
				if e.Candles[0].State != market.Reconciled {
					t.Fatalf("%+v", e.Candles[0])
				}
			}},
		{Name: "trade (doc example)", Kind: KindTrades,
			In: `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}`,
			Check: func(t *testing.T, e Event) {
				tr := e.Trades[0]
				if tr.Market.String() != "bybit:BTCUSDT" || !tr.Buy || tr.Time != 1672304486865 || tr.Quote.String() != "16.5785" || tr.FirstSeq != 0 {
					t.Fatalf("%+v", tr)
				}
			}},
		{Name: "subscribe ok", Kind: KindReply, In: `{"success":true,"ret_msg":"","op":"subscribe","conn_id":"x"}`,
			Check: func(t *testing.T, e Event) {
				if !e.OK || e.Op != "subscribe" {
					t.Fatalf("%+v", e)
				}
			}},
		{Name: "subscribe refused", Kind: KindReply, In: `{"success":false,"ret_msg":"error:handler not found,topic:kline.7.X","op":"subscribe","conn_id":"x"}`,
			Check: func(t *testing.T, e Event) {
				if e.OK || !strings.Contains(e.Msg, "handler not found") {
					t.Fatalf("%+v", e)
				}
			}},
		{Name: "spot pong", Kind: KindPong, In: `{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}`},
		{Name: "linear pong", Kind: KindPong, In: `{"req_id":"test","op":"pong","args":["1675418560633"],"conn_id":"x"}`},
		{Name: "other topic", Kind: KindOther, In: `{"topic":"orderbook.1.BTCUSDT","type":"snapshot","data":{"s":"BTCUSDT"}}`},
		{Name: "not json", In: `{"topic":`, Bad: "cannot decode"},
		{Name: "no data", In: `{"topic":"kline.1.X"}`, Bad: "neither"},
		{Name: "5m kline on the 1m topic", In: `{"topic":"kline.1.X","data":[{"start":0,"end":299999,"interval":"5","open":"1","close":"1","high":"1","low":"1","volume":"1","turnover":"1"}]}`, Bad: "not one minute"},
		{Name: "high below low", In: `{"topic":"kline.1.X","data":[{"start":0,"end":59999,"interval":"1","open":"1","close":"1","high":"1","low":"2","volume":"1","turnover":"1"}]}`, Bad: "below low"},
		{Name: "trade with a bad side", In: `{"topic":"publicTrade.X","data":[{"T":1,"s":"X","S":"Up","v":"1","p":"1","i":"1"}]}`, Bad: "invalid fields"},
		{Name: "trade with a bad size", In: `{"topic":"publicTrade.X","data":[{"T":1,"s":"X","S":"Buy","v":"x","p":"1","i":"1"}]}`, Bad: "trade X 1"},
	}
	exchangetest.RunDecode(t, Decode, func(e Event) Kind { return e.Kind }, nil, cases)
}

func TestDecodeKlines(t *testing.T) {
	body := `{"retCode":0,"retMsg":"OK","result":{"symbol":"BTCUSDT","category":"spot","list":[["120000","2","2","2","2","1","2"],["60000","1","1","1","1","1","1"]]},"time":150000}`
	cs, err := DecodeKlines("BTCUSDT", []byte(body))
	if err != nil || len(cs) != 2 || cs[0].OpenTime != 60000 || cs[0].State != market.Reconciled || cs[1].State != market.Provisional || cs[0].Source != market.SourceREST {
		t.Fatalf("%+v %v", cs, err)
	}
	if _, err := DecodeKlines("X", []byte(`{"retCode":10001,"retMsg":"params error"}`)); err == nil || !strings.Contains(err.Error(), "10001") {
		t.Fatalf("error reply: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"topic":"kline.1.X","data":[{"start":60000,"end":119999,"interval":"1","open":"1","close":"2","high":"2","low":"1","volume":"3","turnover":"4.5","confirm":true}]}`))
	f.Add([]byte(`{"topic":"publicTrade.X","data":[{"T":1,"s":"X","S":"Buy","v":"1","p":"1","i":"1"}]}`))
	f.Add([]byte(`{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}`))
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := d.Decode(data)
		if err != nil {
			return
		}
		for _, c := range e.Candles {
			if err := c.Validate(); err != nil || c.Market.Venue != Venue {
				t.Fatalf("decoded an invalid candle %+v: %v", c, err)
			}
		}
		for _, tr := range e.Trades {
			if tr.Price.Sign() <= 0 || tr.Size.Sign() <= 0 || tr.Market.Symbol == "" {
				t.Fatalf("decoded an invalid trade %+v", tr)
			}
		}
	})
}

func FuzzDecodeKlines(f *testing.F) {
	f.Add([]byte(`{"retCode":0,"result":{"list":[["60000","1","1","1","1","1","1"]]},"time":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := DecodeKlines("X", body)
		for _, c := range cs {
			if err != nil || c.Validate() != nil {
				t.Fatalf("%+v %v", c, err)
			}
		}
	})
}
