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

// fastBins reads tradeBin1m rows into d.bins; ok is false for none, and
// for any row the full decoder would skip.
func (d *Decoder) fastBins(rows *jsonscan.Iter) bool {
	d.bins = d.bins[:0]
	var v [14]jsonscan.Value
	return binShape.EachObject(rows, v[:], func() bool {
		c, ok := d.bin(&v)
		d.bins = append(d.bins, c)
		return ok
	})
}

// bin converts one row as binFrom does: stamped with its bin's end, keyed
// by its open time.
func (d *Decoder) bin(v *[14]jsonscan.Value) (market.Candle, bool) {
	end, ok := d.ts.Millis(v[bTimestamp].Raw)
	pool, sym := v[bPool], v[bSymbol]
	if !ok || v[bTimestamp].Kind != jsonscan.String || sym.Kind != jsonscan.String || len(sym.Raw) == 0 ||
		pool.Kind != jsonscan.Invalid && (pool.Kind != jsonscan.String || !ownPool(string(pool.Raw))) {
		return market.Candle{}, false
	}
	var x [6]market.Decimal // open, high, low, close, volume, foreignNotional
	for i, slot := range bDecimals {
		n := v[slot]
		if n.Kind == jsonscan.Invalid && i >= 4 {
			continue // volume and foreignNotional default to zero
		}
		var err error
		if x[i], err = market.ParseDecimalBytes(n.Raw); n.Kind != jsonscan.Number || err != nil {
			return market.Candle{}, false
		}
	}
	var trades int64
	if v[bTrades].Kind != jsonscan.Invalid {
		if trades, ok = jsonscan.Int(v[bTrades]); !ok {
			return market.Candle{}, false
		}
	}
	c := market.Candle{Market: d.syms.Market(sym.Raw), Interval: market.I1m, OpenTime: end - market.I1m.Millis(),
		Open: x[0], High: x[1], Low: x[2], Close: x[3], Volume: x[4], Quote: x[5], Trades: trades,
		State: market.Reconciled, Source: market.SourceBin}
	return c, c.Validate() == nil
}
