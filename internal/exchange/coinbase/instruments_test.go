package coinbase

import "testing"

func FuzzDecodeInstruments(f *testing.F) {
	f.Add([]byte(`[{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","quote_increment":"0.01","base_increment":"0.00000001","status":"online","trading_disabled":false}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := DecodeInstruments(data)
		for _, in := range list {
			if err != nil || in.Check() != nil || in.Market.Venue != Venue {
				t.Fatalf("decoded an invalid instrument %+v: %v", in, err)
			}
		}
	})
}
