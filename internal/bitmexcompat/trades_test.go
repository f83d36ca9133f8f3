package bitmexcompat

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexwire"
	"github.com/candlewire/candlewire/internal/market"
)

// TestRecentTrades: GET /api/v1/trade answers from the newest trades of
// each market in BitMEX's shape and parameters, and holds 1,000 a market.
func TestRecentTrades(t *testing.T) {
	r := newRig(t)
	eth := market.Market{Venue: "binance", Symbol: "ETHUSDT"}
	for i := range int64(1200) { // BTC trades 0..1199 (the first 200 fall out), ETH every tenth
		r.s.PublishTrade(market.Trade{Market: market.Default, Time: base + i*1000, Price: market.MustDecimal(fmt.Sprint(64000 + i)),
			Size: market.MustDecimal("0.01"), Quote: market.MustDecimal("640"), Buy: i%2 == 0, LastSeq: 1000 + i})
		if i%10 == 0 {
			r.s.PublishTrade(market.Trade{Market: eth, Time: base + i*1000, Price: market.MustDecimal("3000"), Size: market.MustDecimal("1"),
				Quote: market.MustDecimal("3000")})
		}
	}
	at := func(i int64) string { return bitmexwire.Timestamp(base + i*1000) }
	for _, c := range []struct {
		query string
		n     int
		first string // the first row's price
		sym   string
	}{
		{"symbol=XBTUSD", 100, "64200", "XBTUSD"},
		{"symbol=xbtusd&count=5&reverse=true", 5, "65199", "XBTUSD"},
		{"symbol=XBTUSD&count=1000", 1000, "64200", "XBTUSD"},
		{"symbol=XBTUSD&start=990&count=100", 10, "65190", "XBTUSD"},
		{"symbol=XBTUSD&startTime=" + at(1000) + "&endTime=" + at(1004), 5, "65000", "XBTUSD"},
		{"symbol=XBTUSD&startTime=" + at(100), 100, "64200", "XBTUSD"}, // older than the window: what is held
		{"symbol=ETHUSD&count=3&reverse=true", 3, "3000", "ETHUSD"},
		{"count=1000", 1000, "3000", "ETHUSD"}, // every symbol, oldest first: ETH's first trade is older than BTC's first held one
	} {
		var rows []map[string]any
		getJSON(t, r.srv.URL+"/api/v1/trade?"+c.query, &rows)
		if len(rows) != c.n || len(rows) > 0 && (fmt.Sprint(rows[0]["price"]) != c.first || rows[0]["symbol"] != c.sym) {
			t.Errorf("%s: %d rows, first %v; want %d from price %s (%s)", c.query, len(rows), first(rows), c.n, c.first, c.sym)
			continue
		}
		for _, k := range []string{"timestamp", "side", "size", "price", "tickDirection", "trdMatchID", "grossValue", "homeNotional", "foreignNotional"} {
			if _, ok := rows[0][k]; !ok {
				t.Errorf("%s: no %q in %v", c.query, k, rows[0])
			}
		}
	}
	for query, status := range map[string]int{"symbol=NOPE": http.StatusNotFound, "symbol=XBTUSD&count=1001": http.StatusBadRequest,
		"symbol=XBTUSD&startTime=yesterday": http.StatusBadRequest, "symbol=XBTUSD&start=-1": http.StatusBadRequest} {
		resp, err := http.Get(r.srv.URL + "/api/v1/trade?" + query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", query, resp.StatusCode, status)
		}
	}
}

func first(rows []map[string]any) map[string]any {
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}
