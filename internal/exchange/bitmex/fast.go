package bitmex

import (
	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// fast reads {"table":"trade"|"tradeBin1m","action":"insert","data":[rows]}
// with its keys in that order, as BitMEX sends it; ok is false for
// anything else, and for rows the full decoder would skip.
func (d *Decoder) fast(data []byte) (Event, bool) {
	if d.syms.Venue == "" {
		d.syms = market.Interner{Venue: Venue, Upper: false}
	}
	it, ok := jsonscan.Members(data)
	var head [2]jsonscan.Value
	for i, key := range [...]string{"table", "action"} {
		k, v, more := it.Member()
		if !ok || !more || string(k) != key || v.Kind != jsonscan.String {
			return Event{}, false
		}
		head[i] = v
	}
	if k, ok := it.Key(); !ok || string(k) != "data" || string(head[1].Raw) != "insert" {
		return Event{}, false
	}
	rows, ok := it.Elements()
	if !ok {
		return Event{}, false
	}
	ev := Event{Kind: KindTable, Action: "insert"}
	switch string(head[0].Raw) {
	case "trade":
		ev.Table, ok = "trade", d.fastTrades(&rows)
		ev.Trades = d.trades
	case "tradeBin1m":
		ev.Table, ok = "tradeBin1m", d.fastBins(&rows)
		ev.Bins = d.bins
	default:
		return Event{}, false
	}
	return ev, ok && it.Last(&rows)
}

// fastTrades reads trade rows into d.trades; ok is false for none.
func (d *Decoder) fastTrades(rows *jsonscan.Iter) bool {
	d.trades = d.trades[:0]
	for rows.Next() {
		row, ok := rows.Members()
		if !ok {
			return false
		}
		t, ok := d.trade(&row)
		if !ok || !rows.Resume(&row) {
			return false
		}
		d.trades = append(d.trades, t)
	}
	return !rows.Err() && len(d.trades) > 0
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

// trade reads one row; ok is false for anything the fast path leaves to
// the full decoder.
func (d *Decoder) trade(row *jsonscan.Iter) (market.Trade, bool) {
	var f [11]jsonscan.Value
	if !tradeShape.ReadObject(row, f[:]) || f[tTimestamp].Kind != jsonscan.String || f[tSymbol].Kind != jsonscan.String ||
		len(f[tSymbol].Raw) == 0 || f[tSize].Kind != jsonscan.Number || f[tPrice].Kind != jsonscan.Number {
		return market.Trade{}, false
	}
	pool, side, id := f[tPool], f[tSide], f[tMatchID].Kind
	if pool.Kind != jsonscan.Invalid && (pool.Kind != jsonscan.String || !ownPool(string(pool.Raw))) ||
		side.Kind != jsonscan.Invalid && side.Kind != jsonscan.String ||
		id != jsonscan.Invalid && id != jsonscan.String && id != jsonscan.Escaped && id != jsonscan.Null { // not read, but the full decoder would refuse it
		return market.Trade{}, false
	}
	quote := market.Zero
	if n := f[tNotional]; n.Kind != jsonscan.Invalid {
		var err error
		if quote, err = market.ParseDecimalBytes(n.Raw); n.Kind != jsonscan.Number || err != nil {
			return market.Trade{}, false
		}
	}
	ts, ok := d.ts.Millis(f[tTimestamp].Raw)
	price, err1 := market.ParseDecimalBytes(f[tPrice].Raw)
	size, err2 := market.ParseDecimalBytes(f[tSize].Raw)
	if !ok || err1 != nil || err2 != nil || price.Sign() <= 0 || size.Sign() <= 0 {
		return market.Trade{}, false
	}
	return market.Trade{Market: d.syms.Market(f[tSymbol].Raw), Time: ts, Price: price, Size: size, Quote: quote,
		Buy: string(side.Raw) == "Buy"}, true
}
