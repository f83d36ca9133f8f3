package krakensim

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// Venue is the venue name this front-end serves.
const Venue = "kraken"

// VWAPPlaces is the decimals of a simulated vwap: the price's 1 plus 4.
const VWAPPlaces = 5

// FrontEnd serves Kraken's protocol from a simulator.
type FrontEnd struct{ s *sim.Server }

// Mount registers the front-end's routes under prefix (e.g. "/kraken"):
// WebSocket at prefix+"/v2", REST at prefix+"/0/public/OHLC".
func Mount(s *sim.Server, prefix string) *FrontEnd {
	fe := &FrontEnd{s: s}
	s.Handle("GET "+prefix+"/v2", http.HandlerFunc(fe.serveWS))
	s.Handle("GET "+prefix+"/0/public/OHLC", http.HandlerFunc(fe.serveOHLC))
	s.Handle("GET "+prefix+"/0/public/AssetPairs", http.HandlerFunc(fe.serveAssetPairs))
	return fe
}

// Spec is the simulated instrument spec of a Kraken pair (named as
// candlewire names it, BTC-USD): prices in tenths, sizes in 10^-8.
func Spec(symbol string) sim.Spec {
	start := int64(643_215) // 64321.5 for BTC-USD
	if symbol != "BTC-USD" {
		start = sim.StartPrice(symbol, 1_000, 500_000)
	}
	return sim.Spec{PricePrec: 1, Tick: 1, Start: start, SizePrec: 8, Lot: 1_000, Step: max(start/100_000, 1)}
}

// instrument returns the instrument of a v2 pair ("BTC/USD").
func (fe *FrontEnd) instrument(pair string) *sim.Instrument {
	symbol := strings.Replace(strings.ToUpper(pair), "/", "-", 1)
	return fe.s.Instrument(Venue, symbol, Spec(symbol))
}

// vwap is a bin's volume-weighted price as the simulator rounds it; an
// empty bin's is its close.
func vwap(in *sim.Instrument, b sim.Bin) market.Decimal {
	if b.Volume == 0 {
		return in.Price(b.Close)
	}
	v, err := b.Quote.Div(in.Size(b.Volume))
	if err != nil {
		return in.Price(b.Close)
	}
	return v.RoundHAZ(VWAPPlaces)
}

// ohlcRow renders a v2 ohlc row of bin b.
func ohlcRow(in *sim.Instrument, pair string, b sim.Bin) string {
	return fmt.Sprintf(`{"symbol":"%s","open":%s,"high":%s,"low":%s,"close":%s,"trades":%d,"volume":%s,"vwap":%s,"interval_begin":"%s","interval":1,"timestamp":"%s"}`,
		pair, in.Price(b.OpenPrice()), in.Price(b.High), in.Price(b.Low), in.Price(b.Close), b.Count, in.Size(b.Volume), vwap(in, b),
		time.UnixMilli(b.Open).UTC().Format("2006-01-02T15:04:05.000000000Z"), time.UnixMilli(b.Open+60_000).UTC().Format("2006-01-02T15:04:05.000000Z"))
}

// tradeRow renders a v2 trade row.
func tradeRow(in *sim.Instrument, pair string, t sim.Trade) string {
	side := "sell"
	if t.Buy {
		side = "buy"
	}
	return fmt.Sprintf(`{"symbol":"%s","side":"%s","price":%s,"qty":%s,"ord_type":"limit","trade_id":%d,"timestamp":"%s"}`,
		pair, side, in.Price(t.Price), in.Size(t.Size), t.Seq, time.UnixMilli(t.Time).UTC().Format("2006-01-02T15:04:05.000000Z"))
}
