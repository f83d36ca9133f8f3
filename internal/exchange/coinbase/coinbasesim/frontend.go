package coinbasesim

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/sim"
)

// Venue is the venue name this front-end serves.
const Venue = "coinbase"

// FrontEnd serves Coinbase Exchange's protocol from a simulator.
type FrontEnd struct{ s *sim.Server }

// Mount registers the front-end's routes under prefix (e.g. "/coinbase"):
// the WebSocket feed at prefix itself, REST at prefix+"/products",
// prefix+"/products/{id}/trades" and prefix+"/products/{id}/candles".
func Mount(s *sim.Server, prefix string) *FrontEnd {
	fe := &FrontEnd{s: s}
	s.Handle("GET "+prefix, http.HandlerFunc(fe.serveWS))
	s.Handle("GET "+prefix+"/{$}", http.HandlerFunc(fe.serveWS))
	s.Handle("GET "+prefix+"/products", http.HandlerFunc(fe.serveProducts))
	s.Handle("GET "+prefix+"/products/{id}/trades", http.HandlerFunc(fe.serveTrades))
	s.Handle("GET "+prefix+"/products/{id}/candles", http.HandlerFunc(fe.serveCandles))
	return fe
}

// Spec is the simulated instrument spec of a Coinbase product: BTC-USD
// trades in 0.01 USD ticks and 0.00000001 BTC lots, like the venue.
func Spec(product string) sim.Spec {
	start := int64(6_432_150) // 64321.50 for BTC-USD
	if product != "BTC-USD" {
		start = sim.StartPrice(product, 10_000, 5_000_000)
	}
	return sim.Spec{PricePrec: 2, Tick: 1, Start: start, SizePrec: 8, Lot: 1_000, Step: max(start/100_000, 1)}
}

// validProduct is the shape of a product id: BASE-QUOTE in capitals.
var validProduct = regexp.MustCompile(`^[A-Z0-9]{2,10}-[A-Z0-9]{2,10}$`)

func (fe *FrontEnd) instrument(product string) *sim.Instrument {
	return fe.s.Instrument(Venue, product, Spec(product))
}

// stamp renders a time as Coinbase does: RFC 3339 with microseconds.
func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000000Z") }

// makerSide is Coinbase's side: the maker's, so a taker buy is "sell".
func makerSide(t sim.Trade) string {
	if t.Buy {
		return "sell"
	}
	return "buy"
}

// matchFrame renders a match or last_match. sequence counts every order
// event of the product, so it jumps between matches, as on the venue.
func matchFrame(kind string, in *sim.Instrument, t sim.Trade) string {
	return fmt.Sprintf(`{"type":%q,"trade_id":%d,"maker_order_id":"m-%d","taker_order_id":"t-%d","side":%q,"size":"%s","price":"%s","product_id":%q,"sequence":%d,"time":%q}`,
		kind, t.Seq, t.Seq, t.Seq, makerSide(t), in.Size(t.Size), in.Price(t.Price), in.Symbol, t.Seq*7+3, stamp(t.Time))
}

func errorFrame(msg, reason string) string {
	return fmt.Sprintf(`{"type":"error","message":%q,"reason":%q}`, msg, strings.TrimSpace(reason))
}
