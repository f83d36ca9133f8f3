package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// maxLimit bounds the candles of one /v1/candles response.
const maxLimit = 5000

// serveCandles is plain polling: GET /v1/candles?market=…&interval=…
// &from=…&to=…&limit=… returns stored candles oldest first: those with
// open time in [from, to) when from is given, else the newest limit
// (default 500). With since=CURSOR instead it returns, in sequence order,
// the candles that changed after that cursor (the same resume model as the
// other transports; poll again with the returned cursor). JSON by default:
//
//	{"market":…,"interval":…,"cursor":N,"candles":[{…},…]}
//
// CSV with Accept: text/csv. Every response has an ETag; a request whose
// If-None-Match matches it gets 304 Not Modified.
func (a *API) serveCandles(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m, err := a.marketParam(q.Get("market"))
	iv, err2 := market.ParseInterval(cmp.Or(q.Get("interval"), "1m"))
	from, hasFrom, err3 := timeParam(q.Get("from"))
	to, hasTo, err4 := timeParam(q.Get("to"))
	limit, err5 := intParam(q, "limit", 500, 1, maxLimit)
	since, hasSince, err6 := cursorParam("since", q.Get("since"))
	if err := errors.Join(err, err2, err3, err4, err5, err6); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if hasTo && !hasFrom || hasSince && hasFrom {
		httpError(w, http.StatusBadRequest, "to needs from, and since excludes from and to (without any, the newest candles are returned)")
		return
	}
	cs, head, resync, err := a.candlesQuery(r.Context(), m, iv, candleQuery{from, to, since, limit, hasFrom, hasTo, hasSince})
	if err != nil {
		httpError(w, statusOf(err), err.Error())
		return
	}
	body, ctype, err := renderCandles(r, m, iv, head, cs, resync)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeTagged(w, r, body, ctype)
}

// marketParam reads the market of a request and checks that it is served.
func (a *API) marketParam(s string) (market.Market, error) {
	if err := nameLength("market", s); err != nil {
		return market.Market{}, err
	}
	m, err := market.ParseMarket(s)
	if err == nil && !a.collected(m) {
		err = fmt.Errorf("market %q is not collected by this server", s)
	}
	return m, err
}

// candleQuery is what /v1/candles was asked for.
type candleQuery struct {
	from, to, since          int64
	limit                    int
	hasFrom, hasTo, hasSince bool
}

// candlesQuery reads the candles q asks for, and the cursor a client
// continues from. A since the change log cannot resume from is read by
// time instead (the newest candles), and resync says why.
func (a *API) candlesQuery(ctx context.Context, m market.Market, iv market.Interval, q candleQuery) (cs []market.Candle, head int64,
	resync string, err error) {
	floor, head, err := a.cfg.Store.Window(ctx)
	if err != nil {
		return nil, 0, "", fmt.Errorf("read the store's head: %w", err)
	}
	if q.hasSince {
		if err := judgeCursor(q.since, a.cfg.Store.Epoch(), floor, head); err != nil {
			stale, ok := errors.AsType[*staleError](err)
			if !ok {
				return nil, 0, "", err
			}
			resync, q.hasSince = stale.reason, false
		}
	}
	switch {
	case q.hasSince:
		cs, err = a.cfg.Store.Since(ctx, []market.Series{{Market: m, Interval: iv}}, q.since, q.limit)
		if len(cs) == q.limit {
			head = cs[len(cs)-1].Seq // more to come: continue from the last row
		} else if len(cs) > 0 {
			head = max(head, cs[len(cs)-1].Seq)
		}
	case q.hasFrom:
		cs, err = a.cfg.Store.Page(ctx, m, iv, q.from, cmpIf(q.hasTo, q.to, 1<<62), q.limit)
	default:
		cs, err = a.cfg.Store.Latest(ctx, m, iv, q.limit)
	}
	return cs, head, resync, err
}

// writeTagged sends body with its ETag, or 304 when the client has it.
func writeTagged(w http.ResponseWriter, r *http.Request, body []byte, ctype string) {
	h := fnv.New64a()
	h.Write(body)
	etag := `"` + strconv.FormatUint(h.Sum64(), 36) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Accept")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(body) //nolint:errcheck // the client went away
}

// renderCandles writes the response body in the format the client accepts;
// resync says why the client's cursor was not used, when it was not.
func renderCandles(r *http.Request, m market.Market, iv market.Interval, head int64, cs []market.Candle, resync string) ([]byte, string, error) {
	var buf bytes.Buffer
	if strings.Contains(r.Header.Get("Accept"), "text/csv") {
		cw := csv.NewWriter(&buf)
		cw.Write(market.CSVHeader) //nolint:errcheck // checked by Error below
		for _, c := range cs {
			cw.Write(c.CSVRecord()) //nolint:errcheck // checked by Error below
		}
		cw.Flush()
		return buf.Bytes(), "text/csv; charset=utf-8", cw.Error()
	}
	if cs == nil {
		cs = []market.Candle{}
	}
	err := json.NewEncoder(&buf).Encode(struct {
		Market   string          `json:"market"`
		Interval string          `json:"interval"`
		Cursor   int64           `json:"cursor"`
		Resync   string          `json:"resync,omitempty"`
		Candles  []market.Candle `json:"candles"`
	}{m.String(), string(iv), head, resync, cs})
	return buf.Bytes(), "application/json", err
}

// etagMatch reports whether an If-None-Match list names etag (or is *).
func etagMatch(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// timeParam reads Unix milliseconds or RFC 3339; "" means absent.
func timeParam(s string) (int64, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, true, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, false, fmt.Errorf("time %q: want Unix milliseconds or RFC 3339", s)
	}
	return t.UnixMilli(), true, nil
}

func cmpIf(ok bool, v, def int64) int64 {
	if ok {
		return v
	}
	return def
}
