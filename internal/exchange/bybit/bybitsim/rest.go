package bybitsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// serveKline answers GET /v5/market/kline like Bybit: spot 1m rows in
// [start, end], newest first, at most limit (default 200, max 1000), and
// the server time.
func (fe *FrontEnd) serveKline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	now := fe.s.Clock.Now()
	switch {
	case fe.s.Faults.Active(Venue, sim.FaultREST429):
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"retCode":10006,"retMsg":"Too many visits!"}`)
		return
	case fe.s.Faults.Active(Venue, sim.FaultREST5xx):
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"retCode":10016,"retMsg":"Server error."}`)
		return
	}
	q := r.URL.Query()
	symbol := strings.ToUpper(q.Get("symbol"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if q.Get("limit") == "" {
		limit, err = 200, nil
	}
	if symbol == "" || q.Get("category") != "spot" || q.Get("interval") != "1" || err != nil || limit < 1 || limit > 1000 {
		fmt.Fprintf(w, `{"retCode":10001,"retMsg":"params error","result":{},"time":%d}`, now)
		return
	}
	hi, lo := market.I1m.Truncate(now), fe.s.Listed()
	if e, err := strconv.ParseInt(q.Get("end"), 10, 64); err == nil {
		hi = min(hi, market.I1m.Truncate(e))
	}
	if s, err := strconv.ParseInt(q.Get("start"), 10, 64); err == nil {
		lo = max(lo, s+59_999-(s+59_999)%60_000)
	}
	in := fe.instrument(symbol)
	in.Advance(now)
	var rows []string
	for t := hi; t >= lo && len(rows) < limit; t -= 60_000 {
		b := in.Bin(t)
		rows = append(rows, fmt.Sprintf(`["%d","%s","%s","%s","%s","%s","%s"]`, t, in.Price(b.OpenPrice()), in.Price(b.High),
			in.Price(b.Low), in.Price(b.Close), in.Size(b.Volume), b.Quote))
	}
	fmt.Fprintf(w, `{"retCode":0,"retMsg":"OK","result":{"symbol":"%s","category":"spot","list":[%s]},"retExtInfo":{},"time":%d}`,
		symbol, strings.Join(rows, ","), now)
}
