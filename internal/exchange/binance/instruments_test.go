package binance

import "testing"

func FuzzDecodeInstruments(f *testing.F) {
	f.Add([]byte(`{"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","stepSize":"0.00001000"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := DecodeInstruments(data)
		for _, in := range list {
			if err != nil || in.Check() != nil || in.Market.Venue != Venue {
				t.Fatalf("decoded an invalid instrument %+v: %v", in, err)
			}
		}
	})
}
