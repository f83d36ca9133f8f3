package bybitsim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/candlewire/candlewire/internal/sim"
)

// Venue is the venue name this front-end serves.
const Venue = "bybit"

// spotTradeIDBase makes trade ids look like Bybit spot's (large numbers).
const spotTradeIDBase = 2_290_000_000_000_000_000

// FrontEnd serves Bybit's protocol from a simulator.
type FrontEnd struct{ s *sim.Server }

// Mount registers the front-end's routes under prefix (e.g. "/bybit"):
// WebSocket at prefix+"/v5/public/spot", REST at prefix+"/v5/market/kline".
func Mount(s *sim.Server, prefix string) *FrontEnd {
	fe := &FrontEnd{s: s}
	s.Handle("GET "+prefix+"/v5/public/spot", http.HandlerFunc(fe.serveWS))
	s.Handle("GET "+prefix+"/v5/market/kline", http.HandlerFunc(fe.serveKline))
	s.Handle("GET "+prefix+"/v5/market/instruments-info", http.HandlerFunc(fe.serveInstruments))
	return fe
}

// Spec is the simulated instrument spec of a Bybit spot symbol: BTCUSDT
// in 0.01 USDT ticks and 0.000001 BTC lots, like the venue.
func Spec(symbol string) sim.Spec {
	start := int64(6_432_157) // 64321.57 for BTCUSDT
	if symbol != "BTCUSDT" {
		start = sim.StartPrice(symbol, 1_000, 500_000)
	}
	return sim.Spec{PricePrec: 2, Tick: 1, Start: start, SizePrec: 6, Lot: 10, Step: max(start/200_000, 1)}
}

func (fe *FrontEnd) instrument(symbol string) *sim.Instrument {
	symbol = strings.ToUpper(symbol)
	return fe.s.Instrument(Venue, symbol, Spec(symbol))
}

// klineJSON renders a kline object of bin b at simulated time now.
func klineJSON(in *sim.Instrument, b sim.Bin, now int64, confirm bool) string {
	return fmt.Sprintf(`{"start":%d,"end":%d,"interval":"1","open":"%s","close":"%s","high":"%s","low":"%s","volume":"%s","turnover":"%s","confirm":%t,"timestamp":%d}`,
		b.Open, b.Open+59_999, in.Price(b.OpenPrice()), in.Price(b.Close), in.Price(b.High), in.Price(b.Low),
		in.Size(b.Volume), b.Quote, confirm, min(now, b.Open+59_999))
}

// tradeJSON renders one publicTrade row (spot: no tick direction).
func tradeJSON(in *sim.Instrument, t sim.Trade) string {
	side := "Sell"
	if t.Buy {
		side = "Buy"
	}
	return fmt.Sprintf(`{"T":%d,"s":"%s","S":"%s","v":"%s","p":"%s","i":"%d","BT":false}`,
		t.Time, in.Symbol, side, in.Size(t.Size), in.Price(t.Price), spotTradeIDBase+t.Seq)
}

func push(topic string, ts int64, data string) string {
	return fmt.Sprintf(`{"topic":"%s","ts":%d,"type":"snapshot","data":[%s]}`, topic, ts, data)
}
