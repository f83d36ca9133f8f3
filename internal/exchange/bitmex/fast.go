package bitmex

import (
	"bytes"
	"time"

	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// fastTradeInsert reads {"table":"trade","action":"insert","data":[rows]}
// with its keys in that order.
func (d *Decoder) fastTradeInsert(data []byte) (Event, bool) {
	if d.syms.Venue == "" {
		d.syms = market.Interner{Venue: Venue, Upper: false}
	}
	it, ok := jsonscan.Members(data)
	if !ok {
		return Event{}, false
	}
	for _, want := range [...]struct{ key, val string }{{"table", "trade"}, {"action", "insert"}} {
		k, v, ok := it.Member()
		if !ok || string(k) != want.key || v.Kind != jsonscan.String || string(v.Raw) != want.val {
			return Event{}, false
		}
	}
	if k, ok := it.Key(); !ok || string(k) != "data" {
		return Event{}, false
	}
	rows, ok := it.Elements()
	if !ok {
		return Event{}, false
	}
	d.trades = d.trades[:0]
	for rows.Next() {
		row, ok := rows.Members()
		if !ok {
			return Event{}, false
		}
		t, ok := d.trade(&row)
		if !ok || !rows.Resume(&row) {
			return Event{}, false
		}
		d.trades = append(d.trades, t)
	}
	if !it.Resume(&rows) || len(d.trades) == 0 {
		return Event{}, false
	}
	if _, more := it.Key(); more || !it.End() {
		return Event{}, false
	}
	return Event{Kind: KindTable, Table: "trade", Action: "insert", Trades: d.trades}, true
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
	ts, ok := readTimestamp(f.timestamp.Raw)
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

// readTimestamp reads BitMEX's timestamp form, 2021-07-22T22:36:11.685Z, as UTC
// milliseconds; any other form is left to the full decoder.
func readTimestamp(b []byte) (int64, bool) {
	if len(b) != 24 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != '.' || b[23] != 'Z' {
		return 0, false
	}
	var n [7]int
	for i, span := range [...][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 23}} {
		for _, c := range b[span[0]:span[1]] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n[i] = n[i]*10 + int(c-'0')
		}
	}
	if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[3] > 23 || n[4] > 59 || n[5] > 59 {
		return 0, false
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], n[6]*1e6, time.UTC)
	if t.Day() != n[2] { // 31 April and such: time.Parse refuses them
		return 0, false
	}
	return t.UnixMilli(), true
}
