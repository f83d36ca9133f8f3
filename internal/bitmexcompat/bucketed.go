package bitmexcompat

import (
	"context"
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
	q, status, msg := s.bucketQuery(r)
	if msg != "" {
		restError(w, status, msg)
		return
	}
	cs, err := s.bins(r.Context(), q)
	if err != nil {
		restError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	body := []byte{'['}
	for i, c := range cs {
		if i > 0 {
			body = append(body, ',')
		}
		body = appendBin(body, q.symbol, c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(body, "]\n"...)) //nolint:errcheck // the client went away
}

// bucketQuery is a /trade/bucketed request.
type bucketQuery struct {
	m                market.Market
	symbol           string
	iv               market.Interval
	count, start     int
	startT, endT     int64 // bin timestamps (ends), 0 for none
	reverse, partial bool
}

// bucketQuery reads the request; on a bad one it returns the status and
// BitMEX's message.
func (s *Server) bucketQuery(r *http.Request) (bucketQuery, int, string) {
	q := r.URL.Query()
	iv, ok := map[string]market.Interval{"1m": market.I1m, "5m": market.I5m, "1h": market.I1h, "1d": market.I1d}[q.Get("binSize")]
	if !ok {
		return bucketQuery{}, http.StatusBadRequest, "binSize must be one of 1m, 5m, 1h, 1d"
	}
	m, msg := s.lookup(q.Get("symbol"))
	if msg != "" {
		return bucketQuery{}, http.StatusNotFound, msg
	}
	bq := bucketQuery{m: m, symbol: strings.ToUpper(q.Get("symbol")), iv: iv, reverse: q.Get("reverse") == "true", partial: q.Get("partial") == "true"}
	var err1, err2, err3, err4 error
	bq.count, err1 = intArg(q.Get("count"), 100, 1, 1000)
	bq.start, err2 = intArg(q.Get("start"), 0, 0, 1_000_000)
	bq.startT, err3 = timeArg(q.Get("startTime"))
	bq.endT, err4 = timeArg(q.Get("endTime"))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return bucketQuery{}, http.StatusBadRequest, err.Error()
	}
	return bq, 0, ""
}

// bins reads the bins a query asks for, in its order.
func (s *Server) bins(ctx context.Context, q bucketQuery) ([]market.Candle, error) {
	from, to := int64(0), int64(1<<62)
	if q.startT > 0 {
		from = q.startT - q.iv.Millis() // timestamps are bin ends
	}
	if q.endT > 0 {
		to = q.endT - q.iv.Millis() + 1
	}
	want := q.start + q.count
	var cs []market.Candle
	var err error
	if q.reverse {
		cs, err = s.newest(ctx, q, from, to, want)
	} else {
		cs, err = s.cfg.Store.Page(ctx, q.m, q.iv, from, to, want+1)
	}
	if err != nil {
		return nil, err
	}
	cs = keep(cs, q.partial)
	if q.reverse {
		slices.Reverse(cs)
	}
	cs = cs[min(q.start, len(cs)):]
	return cs[:min(q.count, len(cs))], nil
}

// keep leaves out the bins that are not final, unless partial.
func keep(cs []market.Candle, partial bool) []market.Candle {
	if partial {
		return cs
	}
	return slices.DeleteFunc(cs, func(c market.Candle) bool { return c.State != market.Reconciled })
}

// maxWindows bounds how far one read of newest reaches back, in multiples
// of the bins wanted: past a long gap it steps instead of reading ever
// larger ranges.
const maxWindows = 16

// newest reads the newest want bins (final ones unless q.partial) with
// from <= open time < to, oldest first. It reads back from the end in
// windows that grow while they come back short, so gaps in the stored
// bins do not cut the answer short.
func (s *Server) newest(ctx context.Context, q bucketQuery, from, to int64, want int) ([]market.Candle, error) {
	floor, hi, err := s.bounds(ctx, q, from, to)
	if err != nil {
		return nil, err
	}
	first := int64(want+1) * q.iv.Millis()
	var out []market.Candle
	for step := first; hi > floor && len(out) < want; step = min(2*step, maxWindows*first) {
		lo := max(floor, hi-step)
		cs, err := s.cfg.Store.Candles(ctx, q.m, q.iv, lo, hi)
		if err != nil {
			return nil, err
		}
		out = append(keep(cs, q.partial), out...)
		hi = lo
	}
	return out[max(0, len(out)-want):], nil
}

// bounds narrows [from, to) to the stored bins: the newest one's end when
// to is open, the oldest one when from is.
func (s *Server) bounds(ctx context.Context, q bucketQuery, from, to int64) (int64, int64, error) {
	if q.endT == 0 {
		cs, err := s.cfg.Store.Latest(ctx, q.m, q.iv, 1)
		if err != nil || len(cs) == 0 {
			return 0, 0, err
		}
		to = min(to, cs[0].OpenTime+1)
	}
	if q.startT == 0 {
		cs, err := s.cfg.Store.Page(ctx, q.m, q.iv, from, to, 1)
		if err != nil || len(cs) == 0 {
			return 0, 0, err
		}
		from = cs[0].OpenTime
	}
	return from, to, nil
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
