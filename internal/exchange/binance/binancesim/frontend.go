package binancesim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/candlewire/candlewire/internal/sim"
)

// Venue is the venue name this front-end serves.
const Venue = "binance"

// FrontEnd serves Binance's protocol from a simulator.
type FrontEnd struct {
	s      *sim.Server
	prefix string
}

// Mount registers the front-end's routes under prefix (e.g. "/binance"):
// WebSocket at prefix+"/stream", REST at prefix+"/api/v3/klines".
func Mount(s *sim.Server, prefix string) *FrontEnd {
	fe := &FrontEnd{s: s, prefix: prefix}
	s.Handle("GET "+prefix+"/stream", http.HandlerFunc(fe.serveStream))
	s.Handle("GET "+prefix+"/api/v3/klines", http.HandlerFunc(fe.serveKlines))
	s.Handle("GET "+prefix+"/api/v3/exchangeInfo", http.HandlerFunc(fe.serveExchangeInfo))
	return fe
}

// Spec is the simulated instrument spec of a Binance spot symbol: prices
// with 2 decimals, sizes in 0.00001 lots.
func Spec(symbol string) sim.Spec {
	start := int64(6_432_157) // 64321.57 for BTCUSDT
	if symbol != "BTCUSDT" {
		start = sim.StartPrice(symbol, 1_000, 500_000)
	}
	return sim.Spec{PricePrec: 2, Tick: 1, Start: start, SizePrec: 5, Lot: 1, Step: max(start/200_000, 1)}
}

func (fe *FrontEnd) instrument(symbol string) *sim.Instrument {
	symbol = strings.ToUpper(symbol)
	return fe.s.Instrument(Venue, symbol, Spec(symbol))
}

// klineJSON renders a kline payload of the minute bin b.
func klineJSON(in *sim.Instrument, b sim.Bin, eventTime int64, final bool) string {
	const f = 8
	return fmt.Sprintf(`{"e":"kline","E":%d,"s":"%s","k":{"t":%d,"T":%d,"s":"%s","i":"1m","f":%d,"L":%d,"o":"%s","c":"%s","h":"%s","l":"%s","v":"%s","n":%d,"x":%t,"q":"%s","V":"0.00000000","Q":"0.00000000","B":"0"}}`,
		eventTime, in.Symbol, b.Open, b.Open+59_999, in.Symbol, b.FirstFill, b.LastFill,
		in.Price(b.OpenPrice()).StringFixed(f), in.Price(b.Close).StringFixed(f), in.Price(b.High).StringFixed(f),
		in.Price(b.Low).StringFixed(f), in.Size(b.Volume).StringFixed(f), b.Fills, final, b.Quote.StringFixed(f))
}

func aggTradeJSON(in *sim.Instrument, t sim.Trade, eventTime int64) string {
	return fmt.Sprintf(`{"e":"aggTrade","E":%d,"s":"%s","a":%d,"p":"%s","q":"%s","f":%d,"l":%d,"T":%d,"m":%t,"M":true}`,
		eventTime, in.Symbol, t.Seq, in.Price(t.Price).StringFixed(8), in.Size(t.Size).StringFixed(8), t.First, t.Last, t.Time, !t.Buy)
}
