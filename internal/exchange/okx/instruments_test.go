package okx

import "testing"

func FuzzDecodeInstruments(f *testing.F) {
	f.Add([]byte(`{"code":"0","data":[{"instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","tickSz":"0.1","lotSz":"0.00000001","state":"live"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := DecodeInstruments(data)
		for _, in := range list {
			if err != nil || in.Check() != nil || in.Market.Venue != Venue {
				t.Fatalf("decoded an invalid instrument %+v: %v", in, err)
			}
		}
	})
}
