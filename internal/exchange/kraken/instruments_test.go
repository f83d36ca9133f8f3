package kraken

import "testing"

func FuzzDecodeInstruments(f *testing.F) {
	f.Add([]byte(`{"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","pair_decimals":1,"lot_decimals":8,"tick_size":"0.1","status":"online"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := DecodeInstruments(data)
		for _, in := range list {
			if err != nil || in.Check() != nil || in.Market.Venue != Venue {
				t.Fatalf("decoded an invalid instrument %+v: %v", in, err)
			}
		}
	})
}
