package kraken

import (
	"strconv"

	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

var (
	// tradeShape is a v2 trade row's keys in the order Kraken sends them:
	// every key the full decoder declares, and ord_type, which is not read
	// (its slot lets every key of a real row be matched in place).
	tradeShape = jsonscan.NewShape([]string{"symbol", "side", "price", "qty", "ord_type", "trade_id", "timestamp"})
	// ohlcShape is a v2 ohlc row's keys in the order Kraken sends them:
	// every key the full decoder declares, and the deprecated timestamp
	// (the bin's end), which is not read.
	ohlcShape = jsonscan.NewShape([]string{"symbol", "open", "high", "low", "close", "trades", "volume", "vwap",
		"interval_begin", "interval", "timestamp"})
)

// Slots of tradeShape's keys that are read.
const (
	tSymbol    = 0
	tSide      = 1
	tPrice     = 2
	tQty       = 3
	tID        = 5
	tTimestamp = 6
)

// Slots of ohlcShape's keys that are read.
const (
	oSymbol   = 0
	oOpen     = 1 // then high, low and close
	oTrades   = 5
	oVolume   = 6
	oVWAP     = 7
	oBegin    = 8
	oInterval = 9
)

// oDecimals are the slots of a bin's open, high, low, close, volume and
// vwap, as Candle takes them.
var oDecimals = [6]int{oOpen, oOpen + 1, oOpen + 2, oOpen + 3, oVolume, oVWAP}

// fast reads v2 {"channel":"trade"|"ohlc","type":…,"data":[rows]} in that
// key order, as Kraken sends it, and v1 trade arrays; ok is false for
// anything else.
func (d *Decoder) fast(data []byte) (Event, bool) {
	if d.pairs.Venue == "" {
		d.pairs = market.Interner{Venue: Venue, Name: func(pair string) string { return Market(pair).Symbol }}
	}
	if it, ok := jsonscan.Elements(data); ok {
		return d.fastV1(&it)
	}
	it, ok := jsonscan.Members(data)
	var head [2]jsonscan.Value
	for i, key := range [...]string{"channel", "type"} {
		k, v, more := it.Member()
		if !ok || !more || string(k) != key || v.Kind != jsonscan.String {
			return Event{}, false
		}
		head[i] = v
	}
	if k, ok := it.Key(); !ok || string(k) != "data" {
		return Event{}, false
	}
	rows, ok := it.Elements()
	if !ok {
		return Event{}, false
	}
	var ev Event
	switch string(head[0].Raw) {
	case "trade":
		ev, ok = Event{Kind: KindTrades}, d.fastTrades(&rows)
		ev.Trades = d.trades
	case "ohlc":
		ev, ok = Event{Kind: KindOHLC, Snapshot: string(head[1].Raw) == "snapshot"}, d.fastOHLC(&rows)
		ev.Candles = d.candles
	default:
		return Event{}, false
	}
	return ev, ok && it.Last(&rows)
}

// fastTrades reads v2 trade rows into d.trades; ok is false for none.
func (d *Decoder) fastTrades(rows *jsonscan.Iter) bool {
	d.trades = d.trades[:0]
	var v [7]jsonscan.Value
	return tradeShape.EachObject(rows, v[:], func() bool {
		id, ok1 := jsonscan.Int(v[tID])
		ms, ok2 := d.ts.Millis(v[tTimestamp].Raw)
		pair, side := v[tSymbol], v[tSide]
		if !ok1 || !ok2 || id <= 0 || pair.Kind != jsonscan.String || side.Kind != jsonscan.String || v[tTimestamp].Kind != jsonscan.String {
			return false
		}
		buy := string(side.Raw) == "buy"
		t, ok := d.trade(pair.Raw, v[tPrice], v[tQty], buy, buy || string(side.Raw) == "sell", ms)
		t.FirstSeq, t.LastSeq = id, id
		d.trades = append(d.trades, t)
		return ok
	})
}

// trade builds a trade as the full decoder's trade does.
func (d *Decoder) trade(pair []byte, price, qty jsonscan.Value, buy, sided bool, ms int64) (market.Trade, bool) {
	px, ok1 := number(price)
	sz, ok2 := number(qty)
	if !ok1 || !ok2 || len(pair) == 0 || ms <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || !sided {
		return market.Trade{}, false
	}
	return market.Trade{Market: d.pairs.Market(pair), Time: ms, Price: px, Size: sz, Quote: px.Mul(sz), Buy: buy}, true
}

// fastOHLC reads v2 ohlc rows of one-minute bins into d.candles; ok is
// false for none, and for other intervals (the full decoder's KindOther).
func (d *Decoder) fastOHLC(rows *jsonscan.Iter) bool {
	d.candles = d.candles[:0]
	var v [11]jsonscan.Value
	return ohlcShape.EachObject(rows, v[:], func() bool {
		c, ok := d.candle(&v)
		d.candles = append(d.candles, c)
		return ok
	})
}

// candle converts one ohlc row as Candle does.
func (d *Decoder) candle(v *[11]jsonscan.Value) (market.Candle, bool) {
	interval, ok1 := jsonscan.Int(v[oInterval])
	trades, ok2 := jsonscan.Int(v[oTrades])
	begin, ok3 := d.ts.Millis(v[oBegin].Raw)
	if !ok1 || !ok2 || !ok3 || interval != 1 || v[oSymbol].Kind != jsonscan.String || v[oBegin].Kind != jsonscan.String {
		return market.Candle{}, false
	}
	var x [6]market.Decimal
	for i, slot := range oDecimals {
		var ok bool
		if x[i], ok = number(v[slot]); !ok {
			return market.Candle{}, false
		}
	}
	c := market.Candle{Market: d.pairs.Market(v[oSymbol].Raw), Interval: market.I1m, OpenTime: begin, Open: x[0], High: x[1],
		Low: x[2], Close: x[3], Volume: x[4], Quote: x[5].Mul(x[4]), Trades: trades, State: market.Provisional,
		Source: market.SourceKline}
	return c, c.Validate() == nil
}

// number reads a json.Number field: a number, or a string holding one.
func number(v jsonscan.Value) (market.Decimal, bool) {
	if v.Kind != jsonscan.Number && (v.Kind != jsonscan.String || !jsonscan.IsNumber(v.Raw)) {
		return market.Decimal{}, false
	}
	x, err := market.ParseDecimalBytes(v.Raw)
	return x, err == nil
}

// fastV1 reads v1's [channelID, [[price, volume, time, side, …]…],
// "trade", pair]; ok is false for anything else.
func (d *Decoder) fastV1(it *jsonscan.Iter) (Event, bool) {
	if _, ok := it.Element(); !ok || !it.Next() {
		return Event{}, false
	}
	rows, ok := it.Elements()
	if !ok || !d.v1Rows(&rows) || !it.Resume(&rows) {
		return Event{}, false
	}
	name, ok1 := it.Element()
	pair, ok2 := it.Element()
	if !ok1 || !ok2 || it.Next() || !it.End() || name.Kind != jsonscan.String || string(name.Raw) != "trade" || pair.Kind != jsonscan.String {
		return Event{}, false
	}
	d.trades = d.trades[:0]
	for _, r := range d.v1 {
		secs, err := strconv.ParseFloat(string(r[2]), 64)
		if err != nil {
			return Event{}, false
		}
		side := string(r[3])
		t, ok := d.trade(pair.Raw, jsonscan.Value{Kind: jsonscan.String, Raw: r[0]}, jsonscan.Value{Kind: jsonscan.String, Raw: r[1]},
			side == "b", side == "b" || side == "s", int64(secs*1000))
		if !ok {
			return Event{}, false
		}
		d.trades = append(d.trades, t)
	}
	return Event{Kind: KindTrades, Trades: d.trades}, len(d.trades) > 0
}

// v1Rows reads v1 trade rows, every element a string and at least four,
// into d.v1 (their first four).
func (d *Decoder) v1Rows(rows *jsonscan.Iter) bool {
	d.v1 = d.v1[:0]
	for rows.Next() {
		row, ok := rows.Elements()
		var r [4][]byte
		n := 0
		for ok {
			v, more := row.Element()
			if !more {
				break
			}
			if v.Kind != jsonscan.String {
				return false
			}
			if n < len(r) {
				r[n] = v.Raw
			}
			n++
		}
		if !ok || n < len(r) || !rows.Resume(&row) {
			return false
		}
		d.v1 = append(d.v1, r)
	}
	return !rows.Err()
}
