package config

import (
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

func TestReadMarkets(t *testing.T) {
	t.Parallel()
	ms, err := ReadMarkets(strings.NewReader("# the markets\nbinance:BTCUSDT\n\n  okx:BTC-USDT, bybit:ETHUSDT # two on a line\r\nbitmex:XBTUSD\n"))
	want := []market.Market{market.Default, {Venue: "okx", Symbol: "BTC-USDT"}, {Venue: "bybit", Symbol: "ETHUSDT"}, {Venue: "bitmex", Symbol: "XBTUSD"}}
	if err != nil || len(ms) != len(want) {
		t.Fatalf("%v, %v", ms, err)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Fatalf("market %d: %v, want %v", i, ms[i], want[i])
		}
	}
	for in, msg := range map[string]string{
		"binance:BTCUSDT\nokx:X\nbinance:BTCUSDT": "line 3: binance:BTCUSDT is named twice (first on line 1)",
		"binance:BTCUSDT\nBTCUSDT":                "line 2:",
		"# nothing\n\n":                           "names no market",
	} {
		if _, err := ReadMarkets(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
}

// FuzzReadMarkets: any text is read or refused, never a panic.
func FuzzReadMarkets(f *testing.F) {
	f.Add("binance:BTCUSDT\n# c\nokx:BTC-USDT, bybit:ETHUSDT")
	f.Add(":\n,,#\x00")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ReadMarkets(strings.NewReader(s))
		if err == nil && len(ms) == 0 {
			t.Fatal("no markets and no error")
		}
	})
}
