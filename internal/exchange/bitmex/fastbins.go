package bitmex

import (
	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// binShape is a tradeBin row: every key the full decoder declares; the
// others (vwap, lastSize, turnover, homeNotional) are skipped.
var binShape = jsonscan.NewShape([]string{
	"timestamp", "symbol", "open", "high", "low", "close", "volume", "foreignNotional", "trades", "pool"})

// fastBins reads tradeBin1m rows into d.bins; ok is false for none, and
// for any row the full decoder would skip.
func (d *Decoder) fastBins(rows *jsonscan.Iter) bool {
	d.bins = d.bins[:0]
	var v [10]jsonscan.Value
	return binShape.EachObject(rows, v[:], func() bool {
		c, ok := d.bin(&v)
		d.bins = append(d.bins, c)
		return ok
	})
}

// bin converts one row as binFrom does: stamped with its bin's end, keyed
// by its open time.
func (d *Decoder) bin(v *[10]jsonscan.Value) (market.Candle, bool) {
	end, ok := d.ts.Millis(v[0].Raw)
	pool := v[9]
	if !ok || v[0].Kind != jsonscan.String || v[1].Kind != jsonscan.String || len(v[1].Raw) == 0 ||
		pool.Kind != jsonscan.Invalid && (pool.Kind != jsonscan.String || !ownPool(string(pool.Raw))) {
		return market.Candle{}, false
	}
	var x [6]market.Decimal // open, high, low, close, volume, foreignNotional
	for i := range x {
		n := v[2+i]
		if n.Kind == jsonscan.Invalid && i >= 4 {
			continue // volume and foreignNotional default to zero
		}
		var err error
		if x[i], err = market.ParseDecimalBytes(n.Raw); n.Kind != jsonscan.Number || err != nil {
			return market.Candle{}, false
		}
	}
	var trades int64
	if v[8].Kind != jsonscan.Invalid {
		if trades, ok = jsonscan.Int(v[8]); !ok {
			return market.Candle{}, false
		}
	}
	c := market.Candle{Market: d.syms.Market(v[1].Raw), Interval: market.I1m, OpenTime: end - market.I1m.Millis(),
		Open: x[0], High: x[1], Low: x[2], Close: x[3], Volume: x[4], Quote: x[5], Trades: trades,
		State: market.Reconciled, Source: market.SourceBin}
	return c, c.Validate() == nil
}
