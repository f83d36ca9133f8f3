package krakensim

import (
	"fmt"
	"net/http"
	"strings"
)

// Known are the well-known pairs the simulated venue lists (named as
// candlewire names them), besides its synthetic C0-USD to C999-USD.
var Known = []string{"BTC-USD", "ETH-USD", "SOL-USD", "BTC-EUR", "ETH-BTC"}

// serveAssetPairs answers GET /0/public/AssetPairs with the catalog: wsname
// BASE/QUOTE (XBT for BTC, as Kraken), pair_decimals and lot_decimals from
// the specs, tick_size.
func (fe *FrontEnd) serveAssetPairs(w http.ResponseWriter, _ *http.Request) {
	syms := fe.s.Catalog(Venue, Known, func(i int) string { return fmt.Sprintf("C%d-USD", i) })
	rows := make([]string, len(syms))
	for i, s := range syms {
		sp := Spec(s)
		base, quote, _ := strings.Cut(s, "-")
		if base == "BTC" {
			base = "XBT"
		}
		rows[i] = fmt.Sprintf(`%q:{"altname":%q,"wsname":"%s/%s","base":%q,"quote":%q,"pair_decimals":%d,"lot_decimals":%d,"tick_size":"%s","status":"online"}`,
			"X"+base+"Z"+quote, base+quote, base, quote, base, quote, sp.PricePrec, sp.SizePrec, sp.TickSize())
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"error":[],"result":{%s}}`, strings.Join(rows, ","))
}
