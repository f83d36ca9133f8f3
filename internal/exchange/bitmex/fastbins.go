package bitmex

import (
	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// binShape is a tradeBin row's keys in the order BitMEX sends them: every
// key the full decoder declares, and between them vwap, lastSize,
// turnover and homeNotional, which are not read (their slots let every
// key of a real row be matched in place).
var binShape = jsonscan.NewShape([]string{"timestamp", "symbol", "open", "high", "low", "close", "trades",
	"volume", "vwap", "lastSize", "turnover", "homeNotional", "foreignNotional", "pool"})

// Slots of binShape's keys that are read.
const (
	bTimestamp = 0
	bSymbol    = 1
	bOpen      = 2 // then high, low and close
	bTrades    = 6
	bVolume    = 7
	bNotional  = 12
	bPool      = 13
)

// bDecimals are the slots of the candle's open, high, low, close, volume
// and quote volume (foreignNotional).
var bDecimals = [6]int{bOpen, bOpen + 1, bOpen + 2, bOpen + 3, bVolume, bNotional}

// fastBins reads tradeBin1m rows into d.bins, each in place; ok is false
// for none, and for any row the full decoder would skip.
func (d *Decoder) fastBins(rows *jsonscan.Iter) bool {
	d.bins = d.bins[:0]
	var v [14]jsonscan.Value
	return binShape.EachObject(rows, v[:], func() bool {
		d.bins = append(d.bins, market.Candle{})
		return d.bin(&v, &d.bins[len(d.bins)-1])
	})
}

// bin converts one row into c as binFrom does: stamped with its bin's end,
// keyed by its open time.
func (d *Decoder) bin(v *[14]jsonscan.Value, c *market.Candle) bool {
	end, ok := d.ts.Millis(v[bTimestamp].Raw)
	pool, sym := v[bPool], v[bSymbol]
	if !ok || v[bTimestamp].Kind != jsonscan.String || sym.Kind != jsonscan.String || len(sym.Raw) == 0 ||
		pool.Kind != jsonscan.Invalid && (pool.Kind != jsonscan.String || !ownPool(string(pool.Raw))) {
		return false
	}
	x := [6]*market.Decimal{&c.Open, &c.High, &c.Low, &c.Close, &c.Volume, &c.Quote}
	for i, slot := range bDecimals {
		n := v[slot]
		if n.Kind == jsonscan.Invalid && i >= 4 {
			continue // volume and foreignNotional default to zero
		}
		var err error
		if *x[i], err = market.ParseDecimalBytes(n.Raw); n.Kind != jsonscan.Number || err != nil {
			return false
		}
	}
	if v[bTrades].Kind != jsonscan.Invalid {
		if c.Trades, ok = jsonscan.Int(v[bTrades]); !ok {
			return false
		}
	}
	c.Market, c.Interval, c.OpenTime = d.syms.Market(sym.Raw), market.I1m, end-market.I1m.Millis()
	c.State, c.Source = market.Reconciled, market.SourceBin
	return c.Validate() == nil
}
