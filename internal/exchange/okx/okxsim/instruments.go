package okxsim

import (
	"fmt"
	"net/http"
	"strings"
)

// Known are the well-known instruments the simulated venue lists, besides
// its synthetic C0-USDT to C999-USDT.
var Known = []string{"BTC-USDT", "ETH-USDT", "SOL-USDT", "OKB-USDT", "ETH-BTC"}

// serveInstruments answers GET /api/v5/public/instruments?instType=SPOT
// with the catalog.
func (fe *FrontEnd) serveInstruments(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("instType") != "SPOT" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":"51000","msg":"Parameter instType error","data":[]}`)
		return
	}
	syms := fe.s.Catalog(Venue, Known, func(i int) string { return fmt.Sprintf("C%d-USDT", i) })
	rows := make([]string, len(syms))
	for i, s := range syms {
		sp := Spec(s)
		base, quote, _ := strings.Cut(s, "-")
		rows[i] = fmt.Sprintf(`{"instType":"SPOT","instId":%q,"baseCcy":%q,"quoteCcy":%q,"tickSz":"%s","lotSz":"%s","minSz":"%s","state":"live","ctVal":"","ctMult":""}`,
			s, base, quote, sp.TickSize(), sp.LotSize(), sp.LotSize())
	}
	fmt.Fprintf(w, `{"code":"0","msg":"","data":[%s]}`, strings.Join(rows, ","))
}
