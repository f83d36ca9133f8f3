package bitmexcompat

import (
	"strconv"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexwire"
	"github.com/candlewire/candlewire/internal/market"
)

// appendBin appends a tradeBin row: stamped with the bin's end; vwap and
// lastSize are null for a bin without trades, as BitMEX sends them.
func appendBin(b []byte, symbol string, c market.Candle) []byte {
	b = append(b, `{"timestamp":"`...)
	b = append(b, bitmexwire.Timestamp(c.OpenTime+c.Interval.Millis())...)
	b = append(b, `","symbol":"`...)
	b = append(b, symbol...)
	b = append(b, `","open":`...)
	b = append(b, c.Open.String()...)
	b = append(b, `,"high":`...)
	b = append(b, c.High.String()...)
	b = append(b, `,"low":`...)
	b = append(b, c.Low.String()...)
	b = append(b, `,"close":`...)
	b = append(b, c.Close.String()...)
	b = append(b, `,"trades":`...)
	b = strconv.AppendInt(b, c.Trades, 10)
	b = append(b, `,"volume":`...)
	b = append(b, c.Quote.Trunc(0).String()...)
	b = append(b, `,"vwap":`...)
	if vwap, err := c.Quote.Div(c.Volume); err == nil && c.Trades > 0 && !c.Volume.IsZero() {
		b = append(b, vwap.Trunc(8).String()...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"lastSize":null,"turnover":`...)
	b = append(b, c.Volume.Mul64(100_000_000).Trunc(0).String()...)
	b = append(b, `,"homeNotional":`...)
	b = append(b, c.Volume.String()...)
	b = append(b, `,"foreignNotional":`...)
	b = append(b, c.Quote.String()...)
	return append(b, '}')
}

// appendTrade appends a trade row.
func appendTrade(b []byte, symbol string, t market.Trade, side string) []byte {
	b = append(b, `{"timestamp":"`...)
	b = append(b, bitmexwire.Timestamp(t.Time)...)
	b = append(b, `","symbol":"`...)
	b = append(b, symbol...)
	b = append(b, `","side":"`...)
	b = append(b, side...)
	b = append(b, `","size":`...)
	b = append(b, t.Quote.Trunc(0).String()...)
	b = append(b, `,"price":`...)
	b = append(b, t.Price.String()...)
	b = append(b, `,"tickDirection":"ZeroPlusTick","trdMatchID":"`...)
	b = append(b, matchID(t)...)
	b = append(b, `","grossValue":`...)
	b = append(b, t.Size.Mul64(100_000_000).Trunc(0).String()...)
	b = append(b, `,"homeNotional":`...)
	b = append(b, t.Size.String()...)
	b = append(b, `,"foreignNotional":`...)
	b = append(b, t.Quote.String()...)
	return append(b, `,"trdType":"Regular"}`...)
}

// matchID is a stable UUID-shaped id from the venue's trade id (or time).
func matchID(t market.Trade) string {
	id := uint64(t.LastSeq)
	if id == 0 {
		id = uint64(t.Time)
	}
	h := strconv.FormatUint(id, 16)
	for len(h) < 12 {
		h = "0" + h
	}
	return "00000000-0000-4000-8000-" + h[len(h)-12:]
}
