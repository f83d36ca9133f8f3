package bitmex

import (
	"bytes"

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
	if !ok || !it.Resume(&rows) {
		return Event{}, false
	}
	if _, more := it.Key(); more || !it.End() {
		return Event{}, false
	}
	return ev, true
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

// tradeFields are the members of a trade row that candlewire reads.
type tradeFields struct {
	timestamp, symbol, side, size, price, notional, pool jsonscan.Value
}

// rowKeys are the keys the full decoder declares for a trade row.
var rowKeys = [...]string{"timestamp", "symbol", "side", "size", "price", "trdMatchID", "foreignNotional", "pool"}

// trade reads one row; ok is false for anything the fast path leaves to
// the full decoder.
func (d *Decoder) trade(row *jsonscan.Iter) (market.Trade, bool) {
	var f tradeFields
	if !f.read(row) || f.timestamp.Kind != jsonscan.String || f.symbol.Kind != jsonscan.String || len(f.symbol.Raw) == 0 ||
		f.size.Kind != jsonscan.Number || f.price.Kind != jsonscan.Number {
		return market.Trade{}, false
	}
	if f.pool.Kind != jsonscan.Invalid && (f.pool.Kind != jsonscan.String || !ownPool(string(f.pool.Raw))) ||
		f.side.Kind != jsonscan.Invalid && f.side.Kind != jsonscan.String {
		return market.Trade{}, false
	}
	quote := market.Zero
	if f.notional.Kind != jsonscan.Invalid {
		var err error
		if quote, err = market.ParseDecimalBytes(f.notional.Raw); f.notional.Kind != jsonscan.Number || err != nil {
			return market.Trade{}, false
		}
	}
	ts, ok := market.UTCMillis(f.timestamp.Raw)
	price, err1 := market.ParseDecimalBytes(f.price.Raw)
	size, err2 := market.ParseDecimalBytes(f.size.Raw)
	if !ok || err1 != nil || err2 != nil || price.Sign() <= 0 || size.Sign() <= 0 {
		return market.Trade{}, false
	}
	return market.Trade{Market: d.syms.Market(f.symbol.Raw), Time: ts, Price: price, Size: size, Quote: quote,
		Buy: string(f.side.Raw) == "Buy"}, true
}

// read fills f from a row object. A read key given twice, or a key that
// matches a declared one only without regard to case (the full decoder
// would take it), leaves the row to the full decoder.
func (f *tradeFields) read(it *jsonscan.Iter) bool {
	for {
		k, v, ok := it.Member()
		if !ok {
			return !it.Err()
		}
		var p *jsonscan.Value
		switch string(k) {
		case "timestamp":
			p = &f.timestamp
		case "symbol":
			p = &f.symbol
		case "size":
			p = &f.size
		case "price":
			p = &f.price
		case "foreignNotional":
			p = &f.notional
		case "pool":
			p = &f.pool
		case "side":
			p = &f.side
		case "trdMatchID": // not read, but what the full decoder would refuse is its to refuse
			if v.Kind != jsonscan.String && v.Kind != jsonscan.Escaped && v.Kind != jsonscan.Null {
				return false
			}
			continue
		default:
			for _, rk := range rowKeys {
				if bytes.EqualFold(k, []byte(rk)) {
					return false
				}
			}
			continue
		}
		if p.Kind != jsonscan.Invalid {
			return false
		}
		*p = v
	}
}
