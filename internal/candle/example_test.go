package candle_test

import (
	"fmt"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
)

// An engine builds the forming minute from trades; a trade of the next
// minute closes it, and the venue's final reconciles it.
func ExampleEngine() {
	m := market.Market{Venue: "bitmex", Symbol: "XBTUSD"}
	e := candle.NewEngine(m)
	trade := func(ms int64, px, size string) market.Trade {
		return market.Trade{Market: m, Time: ms, Price: market.MustDecimal(px), Size: market.MustDecimal(size)}
	}
	show := func(cs []market.Candle) {
		for _, c := range cs {
			fmt.Printf("%d %s o=%s h=%s l=%s c=%s v=%s n=%d\n", c.OpenTime, c.State, c.Open, c.High, c.Low, c.Close, c.Volume, c.Trades)
		}
	}
	show(e.Trade(trade(60_100, "64000", "100")))
	show(e.Trade(trade(60_900, "64010.5", "200")))
	show(e.Trade(trade(120_050, "64005", "100")))
	// BitMEX's bin for [60000, 120000): open is the previous close.
	p := market.MustDecimal
	show(e.Bin(market.Candle{OpenTime: 60_000, Open: p("63990"), High: p("64010.5"), Low: p("64000"), Close: p("64010.5"),
		Volume: p("300"), Trades: 2, State: market.Reconciled, Source: market.SourceBin}))
	// Output:
	// 60000 provisional o=64000 h=64000 l=64000 c=64000 v=100 n=1
	// 60000 provisional o=64000 h=64010.5 l=64000 c=64010.5 v=300 n=2
	// 60000 closed o=64000 h=64010.5 l=64000 c=64010.5 v=300 n=2
	// 120000 provisional o=64005 h=64005 l=64005 c=64005 v=100 n=1
	// 60000 reconciled o=63990 h=64010.5 l=64000 c=64010.5 v=300 n=2
}
