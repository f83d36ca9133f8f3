package market_test

import (
	"fmt"

	"github.com/candlewire/candlewire/internal/market"
)

func ExampleParseMarket() {
	m, err := market.ParseMarket("bitmex:xbtusd")
	fmt.Println(m, err)
	_, err = market.ParseMarket("XBTUSD")
	fmt.Println(err)
	// Output:
	// bitmex:XBTUSD <nil>
	// market "XBTUSD": want venue:SYMBOL, e.g. binance:BTCUSDT
}

func ExampleMerge() {
	px := market.MustDecimal("100")
	c := market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: 60_000, Open: px, High: px, Low: px,
		Close: px, State: market.Provisional, Source: market.SourceTrades}
	stored, o := market.Merge(nil, c)
	fmt.Println(stored.Rev, o == market.Inserted)
	_, o = market.Merge(&stored, c)
	fmt.Println("replay changes nothing:", o == market.Unchanged)
	final := c
	final.State, final.Close, final.Source = market.Reconciled, market.MustDecimal("101"), market.SourceKline
	stored, _ = market.Merge(&stored, final)
	_, o = market.Merge(&stored, c)
	fmt.Println(stored.Rev, stored.State, "then a trade-built version is stale:", o == market.Stale)
	// Output:
	// 1 true
	// replay changes nothing: true
	// 2 reconciled then a trade-built version is stale: true
}

func ExampleParseDecimal() {
	d, _ := market.ParseDecimal("1e-05") // JavaScript's form of 0.00001
	fmt.Println(d, d.Add(market.MustDecimal("0.1")))
	// Output: 0.00001 0.10001
}
