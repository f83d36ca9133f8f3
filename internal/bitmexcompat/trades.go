package bitmexcompat

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/candlewire/candlewire/internal/market"
)

// recentTrades is how many of each market's newest trades GET
// /api/v1/trade can answer from: a bounded window in memory, since this
// process started (trades are not stored).
const recentTrades = 1000

// tradeWindow keeps each market's newest trades, oldest first.
type tradeWindow struct {
	mu   sync.Mutex
	ring map[market.Market]*tradeRing
}

// tradeRing is one market's newest trades in a fixed ring.
type tradeRing struct {
	buf  [recentTrades]market.Trade
	next int // where the next trade goes
	n    int // how many are held
}

func (w *tradeWindow) add(t market.Trade) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ring == nil {
		w.ring = map[market.Market]*tradeRing{}
	}
	r := w.ring[t.Market]
	if r == nil {
		r = &tradeRing{}
		w.ring[t.Market] = r
	}
	r.buf[r.next] = t
	r.next = (r.next + 1) % recentTrades
	r.n = min(r.n+1, recentTrades)
}

// of returns m's held trades, oldest first.
func (w *tradeWindow) of(m market.Market) []market.Trade {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.ring[m]
	if r == nil {
		return nil
	}
	out := make([]market.Trade, 0, r.n)
	for i := range r.n {
		out = append(out, r.buf[(r.next-r.n+i+recentTrades)%recentTrades])
	}
	return out
}

// tradeQuery is a GET /api/v1/trade request.
type tradeQuery struct {
	symbols []string // BitMEX symbols asked for: one, or every served one
	page             // startT, endT: trade times
}

// serveTrade answers GET /api/v1/trade as BitMEX did, from the newest
// trades of each market this process has seen (recentTrades each):
// symbol (default every served symbol), count (default 100, at most
// 1000), start, reverse (newest first), startTime and endTime (both
// inclusive, as BitMEX's were). The rows are the trade table's.
func (s *Server) serveTrade(w http.ResponseWriter, r *http.Request) {
	q, status, msg := s.tradeQuery(r)
	if msg != "" {
		restError(w, status, msg)
		return
	}
	type row struct {
		symbol string
		t      market.Trade
	}
	var rows []row
	for _, sym := range q.symbols {
		for _, t := range s.recent.of(s.aliases[sym]) {
			if (q.startT == 0 || t.Time >= q.startT) && (q.endT == 0 || t.Time <= q.endT) {
				rows = append(rows, row{sym, t})
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.t.Time, b.t.Time) })
	if q.reverse {
		slices.Reverse(rows)
	}
	rows = rows[min(q.start, len(rows)):]
	rows = rows[:min(q.count, len(rows))]
	body := []byte{'['}
	for i, rw := range rows {
		if i > 0 {
			body = append(body, ',')
		}
		body = appendTrade(body, rw.symbol, rw.t, sideOf(rw.t))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(body, "]\n"...)) //nolint:errcheck // the client went away
}

// tradeQuery reads the request; on a bad one it returns the status and
// BitMEX's message.
func (s *Server) tradeQuery(r *http.Request) (tradeQuery, int, string) {
	v := r.URL.Query()
	var q tradeQuery
	if sym := v.Get("symbol"); sym != "" {
		if _, msg := s.lookup(sym); msg != "" {
			return q, http.StatusNotFound, msg
		}
		q.symbols = []string{strings.ToUpper(sym)}
	} else {
		for a := range s.aliases {
			q.symbols = append(q.symbols, a)
		}
		slices.Sort(q.symbols)
	}
	var err error
	if q.page, err = pageOf(v); err != nil {
		return q, http.StatusBadRequest, err.Error()
	}
	return q, 0, ""
}

// sideOf is a trade's side in BitMEX's words.
func sideOf(t market.Trade) string {
	if t.Buy {
		return "Buy"
	}
	return "Sell"
}
