package bybit

import "testing"

func FuzzDecodeInstruments(f *testing.F) {
	f.Add([]byte(`{"retCode":0,"result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","status":"Trading","lotSizeFilter":{"basePrecision":"0.000001"},"priceFilter":{"tickSize":"0.01"}}],"nextPageCursor":""}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, _, err := DecodeInstruments(data)
		for _, in := range list {
			if err != nil || in.Check() != nil || in.Market.Venue != Venue {
				t.Fatalf("decoded an invalid instrument %+v: %v", in, err)
			}
		}
	})
}
