package binancesim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/candlewire/candlewire/internal/sim"
)

// Known are the well-known symbols the simulated venue lists, besides its
// synthetic C0USDT to C999USDT.
var Known = []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT", "ETHBTC", "BTCFDUSD"}

// serveExchangeInfo answers GET /api/v3/exchangeInfo with the catalog:
// PRICE_FILTER and LOT_SIZE filters carry the specs' tick and lot, written
// with 8 decimals as Binance writes them.
func (fe *FrontEnd) serveExchangeInfo(w http.ResponseWriter, _ *http.Request) {
	syms := fe.s.Catalog(Venue, Known, func(i int) string { return fmt.Sprintf("C%dUSDT", i) })
	rows := make([]string, len(syms))
	for i, s := range syms {
		sp := Spec(s)
		base, quote := sim.SplitSymbol(s, "USDT", "FDUSD", "BTC")
		rows[i] = fmt.Sprintf(`{"symbol":%q,"status":"TRADING","baseAsset":%q,"baseAssetPrecision":8,"quoteAsset":%q,"quotePrecision":8,`+
			`"filters":[{"filterType":"PRICE_FILTER","minPrice":"%s","maxPrice":"1000000.00000000","tickSize":"%s"},`+
			`{"filterType":"LOT_SIZE","minQty":"%s","maxQty":"9000.00000000","stepSize":"%s"}],"permissions":["SPOT"]}`,
			s, base, quote, sp.TickSize().StringFixed(8), sp.TickSize().StringFixed(8), sp.LotSize().StringFixed(8), sp.LotSize().StringFixed(8))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"timezone":"UTC","serverTime":%d,"rateLimits":[],"exchangeFilters":[],"symbols":[%s]}`, fe.s.Clock.Now(), strings.Join(rows, ","))
}
