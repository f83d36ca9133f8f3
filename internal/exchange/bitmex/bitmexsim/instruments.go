package bitmexsim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/candlewire/candlewire/internal/sim"
)

// Known are the well-known symbols the simulated venue lists, besides its
// synthetic C0USD to C999USD.
var Known = []string{"XBTUSD", "ETHUSD", "SOLUSD", "XBTUSDT"}

// serveInstruments answers GET /api/v1/instrument/active with the catalog,
// tickSize and lotSize as JSON numbers, as BitMEX writes them.
func (fe *FrontEnd) serveInstruments(w http.ResponseWriter, _ *http.Request) {
	syms := fe.s.Catalog(Venue, Known, func(i int) string { return fmt.Sprintf("C%dUSD", i) })
	rows := make([]string, len(syms))
	for i, s := range syms {
		sp := Spec(s)
		base, quote := sim.SplitSymbol(s, "USDT", "USD")
		rows[i] = fmt.Sprintf(`{"symbol":%q,"rootSymbol":%q,"state":"Open","typ":"FFWCSX","underlying":%q,"quoteCurrency":%q,`+
			`"tickSize":%s,"lotSize":%s,"multiplier":-100000000,"isInverse":true}`, s, base, base, quote, sp.TickSize(), sp.LotSize())
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "[%s]", strings.Join(rows, ","))
}
