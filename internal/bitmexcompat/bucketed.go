package bitmexcompat

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	m       market.Market
	symbol  string
	iv      market.Interval
	page    // startT, endT: bin timestamps (ends)
	partial bool
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
	bq := bucketQuery{m: m, symbol: strings.ToUpper(q.Get("symbol")), iv: iv, partial: q.Get("partial") == "true"}
	var err error
	if bq.page, err = pageOf(q); err != nil {
		return bucketQuery{}, http.StatusBadRequest, err.Error()
	}
	return bq, 0, ""
}

// page is what BitMEX's list requests share: count, start, reverse,
// startTime and endTime.
type page struct {
	count, start int
	startT, endT int64 // 0 for none
	reverse      bool
}

// pageOf reads a request's page parameters.
func pageOf(q url.Values) (page, error) {
	p := page{reverse: q.Get("reverse") == "true"}
	var err1, err2, err3, err4 error
	p.count, err1 = intArg(q.Get("count"), 100, 1, 1000)
	p.start, err2 = intArg(q.Get("start"), 0, 0, maxStart)
	p.startT, err3 = timeArg(q.Get("startTime"))
	p.endT, err4 = timeArg(q.Get("endTime"))
	return p, errors.Join(err1, err2, err3, err4)
}

// maxStart is the largest start= offset: a query reads start+count bins.
const maxStart = 10_000

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

// maxPages bounds the reads of one reverse query: each reads at least as
// many bins as wanted, so only bins that are not final (left out unless
// partial) can need more than one, and only the newest few are.
const maxPages = 8

// newest reads the newest want bins (final ones unless q.partial) with
// from <= open time < to, oldest first: the newest page before to, then
// the page before that, whatever gaps lie between the stored bins.
func (s *Server) newest(ctx context.Context, q bucketQuery, from, to int64, want int) ([]market.Candle, error) {
	n := max(want, 100)
	var out []market.Candle
	for range maxPages {
		cs, err := s.cfg.Store.Before(ctx, q.m, q.iv, to, n)
		if err != nil {
			return nil, err
		}
		full := len(cs) == n
		i, _ := slices.BinarySearchFunc(cs, from, func(c market.Candle, t int64) int { return cmp.Compare(c.OpenTime, t) })
		out = append(keep(cs[i:], q.partial), out...)
		if !full || i > 0 || len(out) >= want {
			break
		}
		to = cs[0].OpenTime
	}
	return out[max(0, len(out)-want):], nil
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
