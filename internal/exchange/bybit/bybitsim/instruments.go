package bybitsim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/candlewire/candlewire/internal/sim"
)

// Known are the well-known symbols the simulated venue lists, besides its
// synthetic C0USDT to C999USDT.
var Known = []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ETHBTC"}

// serveInstruments answers GET /v5/market/instruments-info?category=spot
// with the catalog in one page.
func (fe *FrontEnd) serveInstruments(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("category") != "spot" {
		fmt.Fprint(w, `{"retCode":10001,"retMsg":"Illegal category","result":{},"time":0}`)
		return
	}
	syms := fe.s.Catalog(Venue, Known, func(i int) string { return fmt.Sprintf("C%dUSDT", i) })
	rows := make([]string, len(syms))
	for i, s := range syms {
		sp := Spec(s)
		base, quote := sim.SplitSymbol(s, "USDT", "BTC")
		rows[i] = fmt.Sprintf(`{"symbol":%q,"baseCoin":%q,"quoteCoin":%q,"status":"Trading","lotSizeFilter":{"basePrecision":"%s","quotePrecision":"0.00000001"},"priceFilter":{"tickSize":"%s"}}`,
			s, base, quote, sp.LotSize(), sp.TickSize())
	}
	fmt.Fprintf(w, `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[%s],"nextPageCursor":""},"time":%d}`, strings.Join(rows, ","), fe.s.Clock.Now())
}
