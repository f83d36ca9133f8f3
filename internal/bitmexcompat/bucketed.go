package bitmexcompat

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// serveBucketed answers GET /api/v1/trade/bucketed with BitMEX's
// parameters: binSize (1m, 5m, 1h, 1d), symbol, count (default 100, at
// most 1000), start, reverse, startTime, endTime (bin timestamps, i.e. bin
// ends) and partial (include the forming bin).
func (s *Server) serveBucketed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	iv, ok := map[string]market.Interval{"1m": market.I1m, "5m": market.I5m, "1h": market.I1h, "1d": market.I1d}[q.Get("binSize")]
	if !ok {
		restError(w, http.StatusBadRequest, "binSize must be one of 1m, 5m, 1h, 1d")
		return
	}
	m, msg := s.lookup(q.Get("symbol"))
	if msg != "" {
		restError(w, http.StatusNotFound, msg)
		return
	}
	count, err1 := intArg(q.Get("count"), 100, 1, 1000)
	start, err2 := intArg(q.Get("start"), 0, 0, 1_000_000)
	startT, err3 := timeArg(q.Get("startTime"))
	endT, err4 := timeArg(q.Get("endTime"))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		restError(w, http.StatusBadRequest, err.Error())
		return
	}
	reverse, partial := q.Get("reverse") == "true", q.Get("partial") == "true"
	from, to := int64(0), int64(1<<62)
	if startT > 0 {
		from = startT - iv.Millis() // timestamps are bin ends
	}
	if endT > 0 {
		to = endT - iv.Millis() + 1
	}
	want := start + count
	var cs []market.Candle
	var err error
	switch {
	case !reverse:
		cs, err = s.cfg.Store.Page(r.Context(), m, iv, from, to, want+1)
	case endT == 0 && startT == 0:
		cs, err = s.cfg.Store.Latest(r.Context(), m, iv, want+1)
	default: // the newest `want` bins before endTime: bins are contiguous, so this range holds them
		cs, err = s.cfg.Store.Candles(r.Context(), m, iv, max(from, to-int64(want+1)*iv.Millis()), to)
	}
	if err != nil {
		restError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if !partial {
		cs = slices.DeleteFunc(cs, func(c market.Candle) bool { return c.State != market.Reconciled })
	}
	if reverse {
		slices.Reverse(cs)
	}
	cs = cs[min(start, len(cs)):]
	cs = cs[:min(count, len(cs))]
	body := []byte{'['}
	for i, c := range cs {
		if i > 0 {
			body = append(body, ',')
		}
		body = appendBin(body, strings.ToUpper(q.Get("symbol")), c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(body, "]\n"...)) //nolint:errcheck // the client went away
}

// restError answers as BitMEX's REST API does: {"error":{"message","name"}}.
func restError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"message": msg, "name": "HTTPError"}})
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
}

func intArg(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q must be an integer from %d to %d", s, lo, hi)
	}
	return n, nil
}

// timeArg reads an ISO timestamp as BitMEX clients send it; "" is 0.
func timeArg(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("cannot read time %q", s)
}
