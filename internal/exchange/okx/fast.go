package okx

import (
	"bytes"
	"strconv"

	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

var (
	// argShape is a push's arg: the full decoder reads channel and instId.
	argShape = jsonscan.NewShape([]string{"channel", "instId"})
	// tradeShape is a trades row, every key the full decoder declares.
	tradeShape = jsonscan.NewShape([]string{"instId", "tradeId", "px", "sz", "side", "ts", "count"})
)

// fast reads {"arg":{channel, instId},"data":[rows]} pushes of trades and
// candle1m, arg first as OKX sends it; ok is false for anything else.
func (d *Decoder) fast(data []byte) (Event, bool) {
	if d.ids.Venue == "" {
		d.ids = market.Interner{Venue: Venue, Upper: true}
	}
	it, ok := jsonscan.Members(data)
	if k, _ := it.Key(); !ok || string(k) != "arg" {
		return Event{}, false
	}
	arg, ok := it.Members()
	var a [2]jsonscan.Value
	if !ok || !argShape.ReadObject(&arg, a[:]) || !it.Resume(&arg) || a[0].Kind != jsonscan.String || a[1].Kind != jsonscan.String {
		return Event{}, false
	}
	if k, ok := it.Key(); !ok || string(k) != "data" {
		return Event{}, false
	}
	rows, ok := it.Elements()
	if !ok {
		return Event{}, false
	}
	ev := Event{InstID: d.ids.Raw(a[1].Raw)}
	switch string(a[0].Raw) {
	case ChannelTrades:
		ev.Kind, ev.Channel, ok = KindTrades, ChannelTrades, d.fastTrades(&rows)
		ev.Trades = d.trades
	case ChannelCandles:
		ev.Kind, ev.Channel, ok = KindCandles, ChannelCandles, d.fastCandles(&rows, a[1].Raw)
		ev.Candles = d.candles
	default:
		return Event{}, false
	}
	return ev, ok && it.Last(&rows)
}

// fastTrades reads trades rows into d.trades; ok is false for none.
func (d *Decoder) fastTrades(rows *jsonscan.Iter) bool {
	d.trades = d.trades[:0]
	var v [7]jsonscan.Value
	return tradeShape.EachObject(rows, v[:], func() bool {
		t, ok := d.trade(&v)
		d.trades = append(d.trades, t)
		return ok
	})
}

// trade converts one row as the full decoder's trade does.
func (d *Decoder) trade(v *[7]jsonscan.Value) (market.Trade, bool) {
	for i, x := range v {
		if x.Kind != jsonscan.String && (i < 6 || x.Kind != jsonscan.Invalid) { // count may be absent
			return market.Trade{}, false
		}
	}
	inst, side := v[0].Raw, string(v[4].Raw)
	id, err1 := strconv.ParseInt(string(v[1].Raw), 10, 64)
	ts, err2 := strconv.ParseInt(string(v[5].Raw), 10, 64)
	px, err3 := market.ParseDecimalBytes(v[2].Raw)
	sz, err4 := market.ParseDecimalBytes(v[3].Raw)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(inst) == 0 || id <= 0 || ts <= 0 ||
		px.Sign() <= 0 || sz.Sign() <= 0 || (side != "buy" && side != "sell") {
		return market.Trade{}, false
	}
	t := market.Trade{Market: d.ids.Market(inst), Time: ts, Price: px, Size: sz, Quote: market.Zero,
		Buy: side == "buy", FirstSeq: id, LastSeq: id}
	if bytes.Count(inst, []byte("-")) == 1 {
		t.Quote = px.Mul(sz)
	}
	return t, true
}

// fastCandles reads candle1m rows into d.candles; ok is false for none.
func (d *Decoder) fastCandles(rows *jsonscan.Iter, inst []byte) bool {
	d.candles = d.candles[:0]
	var f [9][]byte
	for rows.Next() {
		row, ok := rows.Elements()
		n := 0
		for ok {
			v, more := row.Element()
			if !more {
				break
			}
			if v.Kind != jsonscan.String || n == len(f) {
				return false
			}
			f[n] = v.Raw
			n++
		}
		if !ok || (n != 7 && n != 9) || !rows.Resume(&row) {
			return false
		}
		c, ok := d.candle(inst, f[:n])
		if !ok {
			return false
		}
		d.candles = append(d.candles, c)
	}
	return !rows.Err() && len(d.candles) > 0
}

// candle converts one row as CandleRow does.
func (d *Decoder) candle(inst []byte, row [][]byte) (market.Candle, bool) {
	ts, err := strconv.ParseInt(string(row[0]), 10, 64)
	if err != nil {
		return market.Candle{}, false
	}
	var v [6]market.Decimal
	for i := range v {
		if v[i], err = market.ParseDecimalBytes(row[i+1]); err != nil {
			return market.Candle{}, false
		}
	}
	quote := market.Zero
	switch {
	case len(row) == 9:
		if quote, err = market.ParseDecimalBytes(row[7]); err != nil {
			return market.Candle{}, false
		}
	case bytes.Count(inst, []byte("-")) == 1:
		quote = v[5]
	}
	c := market.Candle{Market: d.ids.Market(inst), Interval: market.I1m, OpenTime: ts, Open: v[0], High: v[1], Low: v[2],
		Close: v[3], Volume: v[4], Quote: quote, State: market.Provisional, Source: market.SourceKline}
	if len(row) == 9 && string(row[8]) == "1" {
		c.State = market.Reconciled
	}
	return c, c.Validate() == nil
}
