package coinbasesim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

const (
	maxTrades  = 1000 // rows per trades page
	maxCandles = 300  // candles per request
)

// restFault answers with an injected REST fault, if one is active.
func (fe *FrontEnd) restFault(w http.ResponseWriter) bool {
	switch {
	case fe.s.Faults.Active(Venue, sim.FaultREST429):
		w.Header().Set("Retry-After", "1")
		restError(w, http.StatusTooManyRequests, "Public rate limit exceeded")
		return true
	case fe.s.Faults.Active(Venue, sim.FaultREST5xx):
		restError(w, http.StatusServiceUnavailable, "service unavailable")
		return true
	}
	return false
}

func restError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

// product reads and checks the {id} of a REST path.
func (fe *FrontEnd) product(w http.ResponseWriter, r *http.Request) (*sim.Instrument, bool) {
	if fe.restFault(w) {
		return nil, false
	}
	id := r.PathValue("id")
	if !validProduct.MatchString(id) {
		restError(w, http.StatusNotFound, "NotFound")
		return nil, false
	}
	in := fe.instrument(id)
	in.Advance(fe.s.Clock.Now())
	return in, true
}

// serveTrades answers GET /products/{id}/trades?limit=&after=&before= like
// Coinbase: newest first; after= pages to older trades (ids below it),
// before= to newer ones; CB-BEFORE and CB-AFTER name the page's newest
// and oldest trade ids.
func (fe *FrontEnd) serveTrades(w http.ResponseWriter, r *http.Request) {
	in, ok := fe.product(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), maxTrades)
	after, err2 := intParam(q.Get("after"), 0)
	before, err3 := intParam(q.Get("before"), 0)
	if err != nil || err2 != nil || err3 != nil || limit < 1 || limit > maxTrades {
		restError(w, http.StatusBadRequest, "Invalid limit or cursor")
		return
	}
	now := fe.s.Clock.Now()
	var ts []sim.Trade
	if before > 0 {
		ts = in.After(before, now)
		ts = ts[:min(len(ts), int(limit))]
	} else {
		ts = in.Page(after, int(limit), now)
	}
	slices.Reverse(ts)
	rows := make([]string, len(ts))
	for i, t := range ts {
		rows[i] = fmt.Sprintf(`{"time":%q,"trade_id":%d,"price":"%s","size":"%s","side":%q}`,
			stamp(t.Time), t.Seq, in.Price(t.Price), in.Size(t.Size), makerSide(t))
	}
	w.Header().Set("Content-Type", "application/json")
	if len(ts) > 0 {
		w.Header().Set("CB-BEFORE", strconv.FormatInt(ts[0].Seq, 10))
		w.Header().Set("CB-AFTER", strconv.FormatInt(ts[len(ts)-1].Seq, 10))
	}
	fmt.Fprintf(w, "[%s]", strings.Join(rows, ","))
}

func intParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// serveCandles answers GET /products/{id}/candles?granularity=60&start=&end=
// like Coinbase: rows [time, low, high, open, close, volume] of the
// minutes in [start, end] that had trades (the forming one included),
// newest first; a range of more than 300 minutes is refused.
func (fe *FrontEnd) serveCandles(w http.ResponseWriter, r *http.Request) {
	in, ok := fe.product(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if q.Get("granularity") != "60" {
		restError(w, http.StatusBadRequest, "Unsupported granularity")
		return
	}
	now := fe.s.Clock.Now()
	hi := market.I1m.Truncate(now)
	lo := hi - (maxCandles-1)*60_000
	if q.Get("start") != "" || q.Get("end") != "" {
		start, err1 := time.Parse(time.RFC3339, q.Get("start"))
		end, err2 := time.Parse(time.RFC3339, q.Get("end"))
		if err1 != nil || err2 != nil || end.Before(start) {
			restError(w, http.StatusBadRequest, "Invalid start or end")
			return
		}
		lo, hi = market.I1m.Truncate(start.UnixMilli()), min(hi, market.I1m.Truncate(end.UnixMilli()))
		if (hi-lo)/60_000+1 > maxCandles {
			restError(w, http.StatusBadRequest, "granularity too small for the requested time range. Count of aggregations requested exceeds 300")
			return
		}
	}
	var rows []string
	for t := hi; t >= max(lo, fe.s.Listed()); t -= 60_000 {
		if b := in.Bin(t); !b.Empty() {
			rows = append(rows, fmt.Sprintf(`[%d,%s,%s,%s,%s,%s]`, t/1000, in.Price(b.Low), in.Price(b.High),
				in.Price(b.OpenPrice()), in.Price(b.Close), in.Size(b.Volume)))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "[%s]", strings.Join(rows, ","))
}

// serveProducts answers GET /products: the simulated product list.
func (fe *FrontEnd) serveProducts(w http.ResponseWriter, r *http.Request) {
	if fe.restFault(w) {
		return
	}
	ids := fe.s.Catalog(Venue, Known, func(i int) string { return fmt.Sprintf("C%d-USD", i) })
	rows := make([]string, len(ids))
	for i, id := range ids {
		base, quote, _ := strings.Cut(id, "-")
		sp := Spec(id)
		rows[i] = fmt.Sprintf(`{"id":%q,"base_currency":%q,"quote_currency":%q,"quote_increment":"%s","base_increment":"%s","display_name":%q,"status":"online","trading_disabled":false}`,
			id, base, quote, sp.TickSize(), sp.LotSize(), base+"/"+quote)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "[%s]", strings.Join(rows, ","))
}

// Known are the well-known products the simulated venue lists, besides its
// synthetic C0-USD to C999-USD.
var Known = []string{"BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "DOGE-USD", "BTC-EUR", "ETH-BTC", "BTC-USDT"}
