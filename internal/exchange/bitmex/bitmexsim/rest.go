package bitmexsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/sim"
)

// restError answers in BitMEX's REST error shape.
func restError(w http.ResponseWriter, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"name":%q}}`, msg, name)
}

// restFaults applies injected REST faults; it reports whether it answered.
func (fe *FrontEnd) restFaults(w http.ResponseWriter) bool {
	switch {
	case fe.s.Faults.Active(Venue, sim.FaultREST429):
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Remaining", "0")
		restError(w, http.StatusTooManyRequests, "HTTPError", "Rate limit exceeded, retry in 1 seconds.")
		return true
	case fe.s.Faults.Active(Venue, sim.FaultREST5xx):
		restError(w, http.StatusServiceUnavailable, "HTTPError", "The system is currently overloaded. Please try again later.")
		return true
	}
	w.Header().Set("X-RateLimit-Limit", "30")
	return false
}

// page holds the common query parameters of BitMEX list endpoints.
type page struct {
	symbol     string
	start, end int64 // stamps, inclusive; 0 = unbounded
	count      int
	offset     int
	reverse    bool
}

func parsePage(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{symbol: strings.ToUpper(q.Get("symbol")), count: 100, reverse: q.Get("reverse") == "true"}
	var err error
	if c := q.Get("count"); c != "" {
		if p.count, err = strconv.Atoi(c); err != nil || p.count < 1 || p.count > 1000 {
			return p, fmt.Errorf("count must be a positive integer up to 1000")
		}
	}
	if s := q.Get("start"); s != "" {
		if p.offset, err = strconv.Atoi(s); err != nil || p.offset < 0 {
			return p, fmt.Errorf("start must be a non-negative integer")
		}
	}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"startTime", &p.start}, {"endTime", &p.end}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return p, fmt.Errorf("%s: invalid date", f.name)
			}
			*f.dst = t.UnixMilli()
		}
	}
	if p.symbol == "" {
		return p, fmt.Errorf("symbol is required by this simulator")
	}
	return p, nil
}

// window applies reverse, offset and count to rows listed oldest first.
func (p page) window(rows []string) []string {
	if p.reverse {
		slices.Reverse(rows)
	}
	if p.offset >= len(rows) {
		return nil
	}
	rows = rows[p.offset:]
	return rows[:min(len(rows), p.count)]
}

// serveBucketed answers /api/v1/trade/bucketed: bins stamped with their
// end, published after the bin delay (partial=true adds the forming bin).
func (fe *FrontEnd) serveBucketed(w http.ResponseWriter, r *http.Request) {
	if fe.restFaults(w) {
		return
	}
	p, err := parsePage(r)
	iv, ok := binTables["tradeBin"+r.URL.Query().Get("binSize")]
	if err == nil && !ok {
		err = fmt.Errorf("binSize must be one of 1m, 5m, 1h, 1d")
	}
	if err != nil {
		restError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	now := fe.s.Clock.Now()
	in := fe.instrument(p.symbol)
	in.Advance(now)
	last := iv.Truncate(now - fe.s.BinDelay().Milliseconds())
	if r.URL.Query().Get("partial") == "true" {
		last = iv.Truncate(now) + iv.Millis()
	}
	first := iv.Truncate(fe.s.Listed()) + iv.Millis()
	if p.start > 0 {
		first = max(first, iv.Truncate(p.start+iv.Millis()-1))
	}
	if p.end > 0 {
		last = min(last, iv.Truncate(p.end))
	}
	var rows []string
	for end := first; end <= last && len(rows) < p.offset+p.count || p.reverse && end <= last; end += iv.Millis() {
		rows = append(rows, bin(in, iv, end-iv.Millis()))
	}
	writeRows(w, p.window(rows))
}

// serveTrades answers /api/v1/trade.
func (fe *FrontEnd) serveTrades(w http.ResponseWriter, r *http.Request) {
	if fe.restFaults(w) {
		return
	}
	p, err := parsePage(r)
	if err != nil {
		restError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	now := fe.s.Clock.Now()
	in := fe.instrument(p.symbol)
	in.Advance(now)
	to := now + 1
	if p.end > 0 {
		to = min(to, p.end+1)
	}
	var rows []string
	for _, t := range in.Trades(p.start, to) {
		rows = append(rows, tradeRow(in, t))
	}
	writeRows(w, p.window(rows))
}

func writeRows(w http.ResponseWriter, rows []string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, "["+strings.Join(rows, ",")+"]")
}
