package okxsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// candles answers GET /api/v5/market/candles (the forming minute included,
// confirm "0") and /api/v5/market/history-candles (closed minutes only)
// like OKX: rows newest first, after= for rows older than a time, before=
// for rows newer than it, at most maxLimit (default 100).
func (fe *FrontEnd) candles(maxLimit int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if fe.restFault(w) {
			return
		}
		q := r.URL.Query()
		lo, hi, limit, msg := fe.window(q, maxLimit, maxLimit == 300)
		if msg != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"code":"51000","msg":"Parameter %s error","data":[]}`, msg)
			return
		}
		in := fe.instrument(q.Get("instId"))
		now := fe.s.Clock.Now()
		in.Advance(now)
		var rows []string
		for t := hi; t >= lo && len(rows) < limit; t -= 60_000 {
			rows = append(rows, candleRow(in, in.Bin(t), t+60_000 <= now))
		}
		fmt.Fprintf(w, `{"code":"0","msg":"","data":[%s]}`, strings.Join(rows, ","))
	})
}

// window reads instId, bar, after, before and limit into the open times
// [lo, hi] to answer from, newest first.
func (fe *FrontEnd) window(q map[string][]string, maxLimit int, forming bool) (lo, hi int64, limit int, bad string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if get("instId") == "" {
		return 0, 0, 0, "instId"
	}
	if get("bar") != "1m" {
		return 0, 0, 0, "bar"
	}
	limit = 100
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return 0, 0, 0, "limit"
		}
		limit = n
	}
	now := fe.s.Clock.Now()
	hi = market.I1m.Truncate(now)
	if !forming {
		hi -= 60_000
	}
	lo = fe.s.Listed()
	if a, err := strconv.ParseInt(get("after"), 10, 64); err == nil {
		hi = min(hi, market.I1m.Truncate(a-1))
	} else if get("after") != "" {
		return 0, 0, 0, "after"
	}
	if b, err := strconv.ParseInt(get("before"), 10, 64); err == nil {
		lo = max(lo, market.I1m.Truncate(b)+60_000)
	} else if get("before") != "" {
		return 0, 0, 0, "before"
	}
	return lo, hi, limit, ""
}

// restFault answers with an injected REST fault, if one is active.
func (fe *FrontEnd) restFault(w http.ResponseWriter) bool {
	switch {
	case fe.s.Faults.Active(Venue, sim.FaultREST429):
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"msg":"Too Many Requests","code":"50011"}`)
		return true
	case fe.s.Faults.Active(Venue, sim.FaultREST5xx):
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"msg":"System is busy, please try again later","code":"50001"}`)
		return true
	}
	return false
}
