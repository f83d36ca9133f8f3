package bench

import "testing"

// TestSoakCheck: a client's finals are counted against the expected open
// times of its own streams, repeats as duplicates, whatever their order.
func TestSoakCheck(t *testing.T) {
	c := newSoakClient(0, []string{"binance:BTCUSDT@1m", "okx:BTC-USDT@5m"})
	msg := func(stream string, cursor, open int64, final bool) []byte {
		f := "false"
		if final {
			f = "true"
		}
		return []byte(`{"type":"candle","stream":"` + stream + `","cursor":` + itoa(cursor) + `,"candle":{"t":` + itoa(open) + `,"final":` + f + `}}`)
	}
	c.record(msg("binance:BTCUSDT@1m", 5, 180_000, true))
	c.record(msg("binance:BTCUSDT@1m", 6, 60_000, true))  // earlier than the first: rebased
	c.record(msg("binance:BTCUSDT@1m", 7, 180_000, true)) // again
	c.record(msg("binance:BTCUSDT@1m", 8, 240_000, false))
	c.record(msg("okx:BTC-USDT@5m", 9, 600_000, true))
	if c.lastCursor() != 9 {
		t.Errorf("cursor %d, want 9", c.lastCursor())
	}
	r := check("ws", []*soakClient{c}, 1, map[string][]int64{
		"binance:BTCUSDT@1m": {60_000, 120_000, 180_000, 240_000},
		"okx:BTC-USDT@5m":    {600_000},
		"bybit:BTCUSDT@1m":   {60_000}, // not the client's
	})
	if r.Expected != 5 || r.Received != 3 || r.Missing != 2 || r.Duplicates != 1 || len(r.Examples) != 2 {
		t.Errorf("%+v", r)
	}
}

func itoa(n int64) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}
