package okxsim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/candlewire/candlewire/internal/sim"
)

// Venue is the venue name this front-end serves.
const Venue = "okx"

// FrontEnd serves OKX's protocol from a simulator.
type FrontEnd struct {
	s      *sim.Server
	prefix string
}

// Mount registers the front-end's routes under prefix (e.g. "/okx"):
// WebSockets at prefix+"/ws/v5/business" and prefix+"/ws/v5/public", REST
// at prefix+"/api/v5/market/candles" and ".../history-candles".
func Mount(s *sim.Server, prefix string) *FrontEnd {
	fe := &FrontEnd{s: s, prefix: prefix}
	s.Handle("GET "+prefix+"/ws/v5/business", fe.ws(true))
	s.Handle("GET "+prefix+"/ws/v5/public", fe.ws(false))
	s.Handle("GET "+prefix+"/api/v5/market/candles", fe.candles(300))
	s.Handle("GET "+prefix+"/api/v5/market/history-candles", fe.candles(100))
	s.Handle("GET "+prefix+"/api/v5/public/instruments", http.HandlerFunc(fe.serveInstruments))
	return fe
}

func (fe *FrontEnd) ws(business bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fe.serveWS(w, r, business) })
}

// Spec is the simulated instrument spec of an OKX spot pair: BTC-USDT
// trades in 0.1 USDT ticks and 0.00000001 BTC lots, like the venue.
func Spec(instID string) sim.Spec {
	start := int64(643_215) // 64321.5 for BTC-USDT
	if instID != "BTC-USDT" {
		start = sim.StartPrice(instID, 1_000, 500_000)
	}
	return sim.Spec{PricePrec: 1, Tick: 1, Start: start, SizePrec: 8, Lot: 1_000, Step: max(start/100_000, 1)}
}

func (fe *FrontEnd) instrument(instID string) *sim.Instrument {
	instID = strings.ToUpper(instID)
	return fe.s.Instrument(Venue, instID, Spec(instID))
}

// candleRow renders the 9-field candle row of bin b: volume in the base
// currency, volCcy and volCcyQuote in the quote currency (spot).
func candleRow(in *sim.Instrument, b sim.Bin, confirm bool) string {
	c := "0"
	if confirm {
		c = "1"
	}
	q := b.Quote.String()
	return fmt.Sprintf(`["%d","%s","%s","%s","%s","%s","%s","%s","%s"]`, b.Open,
		in.Price(b.OpenPrice()), in.Price(b.High), in.Price(b.Low), in.Price(b.Close), in.Size(b.Volume), q, q, c)
}

// tradeRow renders one trades-channel row; count is the fills the row
// aggregates.
func tradeRow(in *sim.Instrument, t sim.Trade) string {
	side := "sell"
	if t.Buy {
		side = "buy"
	}
	return fmt.Sprintf(`{"instId":"%s","tradeId":"%d","px":"%s","sz":"%s","side":"%s","ts":"%d","count":"%d"}`,
		in.Symbol, t.Seq, in.Price(t.Price), in.Size(t.Size), side, t.Time, t.Last-t.First+1)
}

func push(channel, instID, rows string) string {
	return `{"arg":{"channel":"` + channel + `","instId":"` + instID + `"},"data":[` + rows + `]}`
}
