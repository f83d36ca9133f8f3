package bitmex

import (
	"bytes"

	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// The starts of the inserts the fast path reads, as BitMEX sends them:
// compared whole, they need no scan.
const (
	tradeHead = `{"table":"trade","action":"insert","data":`
	binHead   = `{"table":"tradeBin1m","action":"insert","data":`
)

// fast reads {"table":"trade"|"tradeBin1m","action":"insert","data":[rows]}
// starting exactly as BitMEX sends it (tradeHead, binHead); ok is false for
// anything else, and for rows the full decoder would skip.
func (d *Decoder) fast(data []byte) (Event, bool) {
	if d.syms.Venue == "" {
		d.syms = market.Interner{Venue: Venue, Upper: false}
	}
	switch {
	case bytes.HasPrefix(data, []byte(tradeHead)):
		it, rows, ok := insertRows(data, len(tradeHead))
		ok = ok && d.fastTrades(&rows) && it.Last(&rows)
		return Event{Kind: KindTable, Table: "trade", Action: "insert", Trades: d.trades}, ok
	case bytes.HasPrefix(data, []byte(binHead)):
		it, rows, ok := insertRows(data, len(binHead))
		ok = ok && d.fastBins(&rows) && it.Last(&rows)
		return Event{Kind: KindTable, Table: "tradeBin1m", Action: "insert", Bins: d.bins}, ok
	}
	return Event{}, false
}

// insertRows starts the walk of an insert's rows after its head, n bytes.
func insertRows(data []byte, n int) (it, rows jsonscan.Iter, ok bool) {
	it = jsonscan.After(data, n)
	rows, ok = it.Elements()
	return it, rows, ok
}

// fastTrades reads trade rows into d.trades, each in place; ok is false
// for none.
func (d *Decoder) fastTrades(rows *jsonscan.Iter) bool {
	d.trades = d.trades[:0]
	var f [11]jsonscan.Value
	return tradeShape.EachObject(rows, f[:], func() bool {
		d.trades = append(d.trades, market.Trade{})
		return d.trade(&f, &d.trades[len(d.trades)-1])
	})
}

// tradeShape is a trade row's keys in the order BitMEX sends them: the
// ones the full decoder declares, and between them tickDirection,
// grossValue and homeNotional, which are not read (their slots let every
// key of a real row be matched in place).
var tradeShape = jsonscan.NewShape([]string{"timestamp", "symbol", "side", "size", "price", "tickDirection",
	"trdMatchID", "grossValue", "homeNotional", "foreignNotional", "pool"})

// Slots of tradeShape's keys that are read.
const (
	tTimestamp = 0
	tSymbol    = 1
	tSide      = 2
	tSize      = 3
	tPrice     = 4
	tMatchID   = 6
	tNotional  = 9
	tPool      = 10
)

// trade converts one row's values f into t; ok is false for anything the
// fast path leaves to the full decoder.
func (d *Decoder) trade(f *[11]jsonscan.Value, t *market.Trade) bool {
	if f[tTimestamp].Kind != jsonscan.String || f[tSymbol].Kind != jsonscan.String ||
		len(f[tSymbol].Raw) == 0 || f[tSize].Kind != jsonscan.Number || f[tPrice].Kind != jsonscan.Number {
		return false
	}
	pool, side, id := f[tPool], f[tSide], f[tMatchID].Kind
	if pool.Kind != jsonscan.Invalid && (pool.Kind != jsonscan.String || !ownPool(string(pool.Raw))) ||
		side.Kind != jsonscan.Invalid && side.Kind != jsonscan.String ||
		id != jsonscan.Invalid && id != jsonscan.String && id != jsonscan.Escaped && id != jsonscan.Null { // not read, but the full decoder would refuse it
		return false
	}
	if n := f[tNotional]; n.Kind != jsonscan.Invalid {
		var err error
		if t.Quote, err = market.ParseDecimalBytes(n.Raw); n.Kind != jsonscan.Number || err != nil {
			return false
		}
	}
	var ok bool
	var err1, err2 error
	t.Time, ok = d.ts.Millis(f[tTimestamp].Raw)
	t.Price, err1 = market.ParseDecimalBytes(f[tPrice].Raw)
	t.Size, err2 = market.ParseDecimalBytes(f[tSize].Raw)
	if !ok || err1 != nil || err2 != nil || t.Price.Sign() <= 0 || t.Size.Sign() <= 0 {
		return false
	}
	t.Market, t.Buy = d.syms.Market(f[tSymbol].Raw), string(side.Raw) == "Buy"
	return true
}
