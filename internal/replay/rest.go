package replay

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kline is one final Binance 1m kline of a recording, as a row of
// GET /api/v3/klines.
type kline struct {
	open int64
	row  json.RawMessage
}

// binanceKline is the part of a Binance kline event (combined stream or
// raw) that the REST row needs. Its keys differ only in case, so each one
// the event has is named, or encoding/json would take "E" for "e".
type binanceKline struct {
	Data *binanceKline   `json:"data"`
	E    string          `json:"e"`
	At   json.RawMessage `json:"E"`
	K    struct {
		T      int64  `json:"t"`
		Close  int64  `json:"T"`
		Symbol string `json:"s"`
		I      string `json:"i"`
		First  int64  `json:"f"`
		Last   int64  `json:"L"`
		O      string `json:"o"`
		C      string `json:"c"`
		H      string `json:"h"`
		L      string `json:"l"`
		V      string `json:"v"`
		N      int64  `json:"n"`
		X      bool   `json:"x"`
		Q      string `json:"q"`
		TakerV string `json:"V"`
		TakerQ string `json:"Q"`
		B      string `json:"B"`
	} `json:"k"`
}

// klinesOf collects the final 1m klines of the Binance spot sessions, by
// REST prefix and symbol (klineKey), in open-time order, each once (the
// last recorded wins). Futures sessions (fstream., dstream.) are left out:
// their REST is not /api/v3.
func klinesOf(sessions []Session) map[string][]kline {
	out := map[string][]kline{}
	for _, se := range sessions {
		if u, err := url.Parse(se.URL); err == nil && (strings.HasPrefix(u.Host, "fstream.") || strings.HasPrefix(u.Host, "dstream.")) {
			continue
		}
		prefix := strings.TrimSuffix(path.Dir(se.Path), "/")
		for _, f := range se.Frames {
			if !bytes.Contains(f.Text, []byte(`"kline"`)) {
				continue
			}
			var ev binanceKline
			if json.Unmarshal(f.Text, &ev) != nil {
				continue
			}
			if ev.Data != nil {
				ev = *ev.Data
			}
			k := ev.K
			if ev.E != "kline" || !k.X || k.I != "1m" || k.Symbol == "" {
				continue
			}
			row, _ := json.Marshal([]any{k.T, k.O, k.H, k.L, k.C, k.V, k.Close, k.Q, k.N, k.TakerV, k.TakerQ, "0"})
			key := klineKey(prefix, k.Symbol)
			out[key] = append(out[key], kline{open: k.T, row: row})
		}
	}
	for s, ks := range out {
		slices.SortStableFunc(ks, func(a, b kline) int { return cmp.Compare(a.open, b.open) })
		var once []kline // the last recorded of each open time (a reconnect repeats one)
		for _, k := range ks {
			if n := len(once); n > 0 && once[n-1].open == k.open {
				once[n-1] = k
			} else {
				once = append(once, k)
			}
		}
		out[s] = once
	}
	return out
}

// klineKey keys klines by the REST prefix of their recorded path (the
// path without its last element: /binance/stream gives /binance) and
// symbol.
func klineKey(prefix, symbol string) string { return prefix + " " + strings.ToUpper(symbol) }

// serveKlines answers GET …/api/v3/klines?symbol=S&interval=1m
// [&startTime=MS][&endTime=MS][&limit=N] from the recording, as Binance
// does: the klines opening in [startTime, endTime], oldest first, at most
// limit (default 500, at most 1000).
func (s *Server) serveKlines(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(name string, def int64) (int64, error) {
		if v := q.Get(name); v != "" {
			return strconv.ParseInt(v, 10, 64)
		}
		return def, nil
	}
	from, err1 := num("startTime", 0)
	to, err2 := num("endTime", 1<<62)
	limit, err3 := num("limit", 500)
	if err := errors.Join(err1, err2, err3); err != nil || q.Get("interval") != "1m" || q.Get("symbol") == "" || limit < 1 {
		http.Error(w, `{"code":-1100,"msg":"a replay serves symbol, interval=1m, startTime, endTime and limit"}`, http.StatusBadRequest)
		return
	}
	var rows []string
	ks := s.klines[klineKey(strings.TrimSuffix(r.URL.Path, "/api/v3/klines"), q.Get("symbol"))]
	if n := len(ks); n > 0 {
		// The venue's clock is the recording's: its klines are over even
		// when a simulator recorded them ahead of this machine's clock.
		clock := time.UnixMilli(max(ks[n-1].open+60_000, time.Now().UnixMilli()))
		w.Header().Set("Date", clock.UTC().Format(http.TimeFormat))
	}
	for _, k := range ks {
		if k.open >= from && k.open <= to && int64(len(rows)) < min(limit, 1000) {
			rows = append(rows, string(k.row))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "[%s]", strings.Join(rows, ","))
}
