package krakensim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// maxRows is how far back Kraken's OHLC reaches: the 720 most recent.
const maxRows = 720

// serveOHLC answers GET /0/public/OHLC?pair=XBTUSD&interval=1&since=S like
// Kraken: rows of the minutes after S (Unix seconds) among the 720 most
// recent, oldest first, the last one the minute in progress.
func (fe *FrontEnd) serveOHLC(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case fe.s.Faults.Active(Venue, sim.FaultREST429):
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":["EGeneral:Too many requests"]}`)
		return
	case fe.s.Faults.Active(Venue, sim.FaultREST5xx):
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":["EService:Unavailable"]}`)
		return
	}
	q := r.URL.Query()
	pair := strings.ToUpper(q.Get("pair"))
	if q.Get("interval") != "1" || len(pair) < 4 { // a base of one letter or more, a quote of three
		fmt.Fprint(w, `{"error":["EQuery:Unknown asset pair"]}`)
		return
	}
	base, quote := pair[:len(pair)-3], pair[len(pair)-3:]
	if base == "XBT" {
		base = "BTC"
	}
	in := fe.instrument(base + "/" + quote)
	now := fe.s.Clock.Now()
	in.Advance(now)
	last := market.I1m.Truncate(now)
	first := max(last-(maxRows-1)*60_000, fe.s.Listed())
	if s, err := strconv.ParseInt(q.Get("since"), 10, 64); err == nil {
		first = max(first, market.I1m.Truncate(s*1000)+60_000)
	}
	var rows []string
	for t := first; t <= last; t += 60_000 {
		b := in.Bin(t)
		rows = append(rows, fmt.Sprintf(`[%d,"%s","%s","%s","%s","%s","%s",%d]`, t/1000, in.Price(b.OpenPrice()), in.Price(b.High),
			in.Price(b.Low), in.Price(b.Close), vwap(in, b), in.Size(b.Volume), b.Count))
	}
	fmt.Fprintf(w, `{"error":[],"result":{"X%sZ%s":[%s],"last":%d}}`, strings.Replace(base, "BTC", "XBT", 1), quote, strings.Join(rows, ","), last/1000-60)
}
