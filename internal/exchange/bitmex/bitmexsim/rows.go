package bitmexsim

import (
	"github.com/quagmt/udecimal"

	"fmt"
	"net/http"
	"strings"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexwire"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// Venue is the venue name this front-end serves.
const Venue = "bitmex"

// binTables maps each tradeBin table to its width.
var binTables = map[string]market.Interval{"tradeBin1m": market.I1m, "tradeBin5m": market.I5m, "tradeBin1h": market.I1h, "tradeBin1d": market.I1d}

// FrontEnd serves BitMEX's protocol from a simulator.
type FrontEnd struct {
	s *sim.Server
}

// Mount registers the routes under prefix (e.g. "/bitmex"): WebSocket at
// prefix+"/realtime", REST at prefix+"/api/v1/trade" and
// prefix+"/api/v1/trade/bucketed".
func Mount(s *sim.Server, prefix string) *FrontEnd {
	fe := &FrontEnd{s: s}
	s.Handle("GET "+prefix+"/realtime", http.HandlerFunc(fe.serveRealtime))
	s.Handle("GET "+prefix+"/api/v1/trade/bucketed", http.HandlerFunc(fe.serveBucketed))
	s.Handle("GET "+prefix+"/api/v1/trade", http.HandlerFunc(fe.serveTrades))
	s.Handle("GET "+prefix+"/api/v1/instrument/active", http.HandlerFunc(fe.serveInstruments))
	return fe
}

// Spec is the simulated spec of a BitMEX symbol: inverse contracts worth
// 1 USD, prices in 0.5 steps.
func Spec(symbol string) sim.Spec {
	return sim.Spec{PricePrec: 1, Tick: 5, Start: 643_215, SizePrec: 0, Lot: 100, Contracts: true, Step: 6}
}

func (fe *FrontEnd) instrument(symbol string) *sim.Instrument {
	symbol = strings.ToUpper(symbol)
	return fe.s.Instrument(Venue, symbol, Spec(symbol))
}

// tradeRow renders one trade as a BitMEX trade row.
func tradeRow(in *sim.Instrument, t sim.Trade) string {
	side, tick := "Sell", "MinusTick"
	if t.Buy {
		side, tick = "Buy", "PlusTick"
	}
	return fmt.Sprintf(`{"timestamp":"%s","symbol":"%s","side":"%s","size":%d,"price":%s,"tickDirection":"%s","trdMatchID":"00000000-006d-1000-0000-%012x","grossValue":%d,"homeNotional":%s,"foreignNotional":%d,"trdType":"Regular"}`,
		bitmexwire.Timestamp(t.Time), in.Symbol, side, t.Size, in.Price(t.Price), tick, t.Seq, t.Size*100, homeNotional(in, t.Size, t.Price), t.Size)
}

// homeNotional is size/price in XBT, to 8 decimals.
func homeNotional(in *sim.Instrument, size, price int64) string {
	p := in.Price(price)
	q, err := in.Size(size).Div(p)
	if err != nil {
		return "0"
	}
	return q.Trunc(8).String()
}

// bin is a BitMEX bin of width iv that opened at open: open is the previous
// bin's close, high/low come from the trades inside (so open can lie
// outside them), vwap and lastSize are absent for empty bins.
func bin(in *sim.Instrument, iv market.Interval, open int64) string {
	var parts []sim.Bin
	for t := open; t < open+iv.Millis(); t += market.I1m.Millis() {
		parts = append(parts, in.Bin(t))
	}
	b := parts[0]
	o, c, hi, lo := b.PrevClose, parts[len(parts)-1].Close, int64(-1), int64(-1)
	var trades, volume, last int64
	for _, p := range parts {
		if !p.Empty() {
			if hi < 0 || p.High > hi {
				hi = p.High
			}
			if lo < 0 || p.Low < lo {
				lo = p.Low
			}
			last = p.LastSize
		}
		trades += p.Count
		volume += p.Volume
	}
	if hi < 0 {
		hi, lo = c, c
	}
	extra, home := "", homeNotional(in, volume, c)
	if trades > 0 {
		extra = fmt.Sprintf(`"vwap":%s,"lastSize":%d,`, vwap(in, volume, home), last)
	}
	return fmt.Sprintf(`{"timestamp":"%s","symbol":"%s","open":%s,"high":%s,"low":%s,"close":%s,"trades":%d,"volume":%d,%s"turnover":%d,"homeNotional":%s,"foreignNotional":%d}`,
		bitmexwire.Timestamp(open+iv.Millis()), in.Symbol, in.Price(o), in.Price(hi), in.Price(lo), in.Price(c), trades, volume, extra,
		volume*100, home, volume)
}

// vwap of an inverse contract bin: contracts per XBT, to 4 decimals.
func vwap(in *sim.Instrument, volume int64, home string) string {
	h, err := udecimal.Parse(home)
	if err != nil || h.IsZero() {
		return "0"
	}
	v, err := in.Size(volume).Div(h)
	if err != nil {
		return "0"
	}
	return v.Trunc(4).String()
}
