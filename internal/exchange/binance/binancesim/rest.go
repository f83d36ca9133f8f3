package binancesim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// serveKlines answers GET /api/v3/klines like Binance: rows of closed and
// forming minutes, oldest first, at most limit (default 500, max 1000).
func (fe *FrontEnd) serveKlines(w http.ResponseWriter, r *http.Request) {
	now := fe.s.Clock.Now()
	w.Header().Set("Date", time.UnixMilli(now).UTC().Format(http.TimeFormat))
	if fe.s.Faults.Active(Venue, sim.FaultREST429) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"code":-1003,"msg":"Too many requests."}`, http.StatusTooManyRequests)
		return
	}
	if fe.s.Faults.Active(Venue, sim.FaultREST5xx) {
		http.Error(w, `{"code":-1001,"msg":"Internal error; unable to process your request."}`, http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	symbol := strings.ToUpper(q.Get("symbol"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if q.Get("limit") == "" {
		limit, err = 500, nil
	}
	if symbol == "" || q.Get("interval") != "1m" || err != nil || limit < 1 || limit > 1000 {
		http.Error(w, `{"code":-1100,"msg":"Illegal characters found in a parameter."}`, http.StatusBadRequest)
		return
	}
	in := fe.instrument(symbol)
	in.Advance(now)
	last := market.I1m.Truncate(now)
	if e, err := strconv.ParseInt(q.Get("endTime"), 10, 64); err == nil {
		last = min(last, market.I1m.Truncate(e))
	}
	first := max(last-int64(limit-1)*60_000, fe.s.Listed())
	if s, err := strconv.ParseInt(q.Get("startTime"), 10, 64); err == nil {
		first = max(fe.s.Listed(), s+59_999-(s+59_999)%60_000)
		last = min(last, first+int64(limit-1)*60_000)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-MBX-USED-WEIGHT-1m", "2")
	var b strings.Builder
	b.WriteByte('[')
	for t := first; t <= last; t += 60_000 {
		if t > first {
			b.WriteByte(',')
		}
		bin := in.Bin(t)
		fmt.Fprintf(&b, `[%d,"%s","%s","%s","%s","%s",%d,"%s",%d,"0","0","0"]`, t,
			in.Price(bin.OpenPrice()).StringFixed(8), in.Price(bin.High).StringFixed(8), in.Price(bin.Low).StringFixed(8),
			in.Price(bin.Close).StringFixed(8), in.Size(bin.Volume).StringFixed(8), t+59_999, bin.Quote.StringFixed(8), bin.Fills)
	}
	b.WriteByte(']')
	fmt.Fprint(w, b.String())
}
