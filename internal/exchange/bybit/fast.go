package bybit

import (
	"bytes"

	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

var (
	// envelopeShape is the keys the full decoder declares for a frame.
	envelopeShape = jsonscan.NewShape([]string{"topic", "type"}, jsonscan.Declared("data", "op", "success", "ret_msg"))
	// tradeShape is a publicTrade row, every key the full decoder declares.
	tradeShape = jsonscan.NewShape([]string{"T", "s", "S", "v", "p", "i"})
	// klineShape is a kline row, every key the full decoder declares.
	klineShape = jsonscan.NewShape([]string{"start", "end", "interval", "open", "high", "low", "close", "volume", "turnover", "confirm"})
)

// fast reads {"topic":…,…,"data":[rows]} pushes of publicTrade and
// kline.1, topic before data as Bybit sends it; ok is false for anything
// else.
func (d *Decoder) fast(data []byte) (Event, bool) {
	if d.syms.Venue == "" {
		d.syms, d.topics = market.Interner{Venue: Venue, Upper: true}, market.Interner{Venue: Venue}
	}
	it, ok := jsonscan.Members(data)
	var head [2]jsonscan.Value
	var ev Event
	seenData := false
	for ok {
		k, more := it.Key()
		if !more {
			break
		}
		if string(k) == "data" && !seenData && head[0].Kind == jsonscan.String {
			seenData = true
			ev, ok = d.push(&it, head[0].Raw)
			continue
		}
		v, more := it.Value()
		i := envelopeShape.Index(k)
		switch {
		case !more || i < 0 && envelopeShape.Folds(k) || i >= 0 && (head[i].Kind != jsonscan.Invalid || v.Kind != jsonscan.String):
			return Event{}, false
		case i >= 0:
			head[i] = v
		}
	}
	return ev, ok && seenData && it.End()
}

// push reads the data array of topic.
func (d *Decoder) push(it *jsonscan.Iter, topic []byte) (Event, bool) {
	rows, ok := it.Elements()
	if !ok {
		return Event{}, false
	}
	ev := Event{Topic: d.topics.Raw(topic)}
	switch {
	case bytes.HasPrefix(topic, []byte(TopicTrade)):
		ev.Kind, ok = KindTrades, d.fastTrades(&rows)
		ev.Trades = d.trades
	case bytes.HasPrefix(topic, []byte(TopicKline)):
		ev.Kind, ok = KindKline, d.fastKlines(&rows, topic[len(TopicKline):])
		ev.Candles = d.candles
	default:
		return Event{}, false
	}
	return ev, ok && it.Resume(&rows)
}

// fastTrades reads publicTrade rows into d.trades; ok is false for none.
func (d *Decoder) fastTrades(rows *jsonscan.Iter) bool {
	d.trades = d.trades[:0]
	var v [6]jsonscan.Value
	return tradeShape.EachObject(rows, v[:], func() bool {
		ms, ok := jsonscan.Int(v[0])
		for _, x := range v[1:] {
			ok = ok && x.Kind == jsonscan.String
		}
		px, err1 := market.ParseDecimalBytes(v[4].Raw)
		sz, err2 := market.ParseDecimalBytes(v[3].Raw)
		side := string(v[2].Raw)
		if !ok || err1 != nil || err2 != nil || len(v[1].Raw) == 0 || ms <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || (side != "Buy" && side != "Sell") {
			return false
		}
		d.trades = append(d.trades, market.Trade{Market: d.syms.Market(v[1].Raw), Time: ms, Price: px, Size: sz, Quote: px.Mul(sz), Buy: side == "Buy"})
		return true
	})
}

// fastKlines reads kline.1 rows of symbol into d.candles; ok is false for
// none.
func (d *Decoder) fastKlines(rows *jsonscan.Iter, symbol []byte) bool {
	d.candles = d.candles[:0]
	var v [10]jsonscan.Value
	return klineShape.EachObject(rows, v[:], func() bool {
		c, ok := d.kline(&v, symbol)
		d.candles = append(d.candles, c)
		return ok
	})
}

// kline converts one row as the full decoder's klineEvent does.
func (d *Decoder) kline(v *[10]jsonscan.Value, symbol []byte) (market.Candle, bool) {
	start, ok1 := jsonscan.Int(v[0])
	end, ok2 := jsonscan.Int(v[1])
	confirm, ok3 := jsonscan.Bool(v[9])
	if !ok1 || !ok2 || !ok3 || end != start+market.I1m.Millis()-1 || v[2].Kind != jsonscan.String || string(v[2].Raw) != "1" {
		return market.Candle{}, false
	}
	var x [6]market.Decimal
	for i := range x {
		var err error
		if x[i], err = market.ParseDecimalBytes(v[3+i].Raw); v[3+i].Kind != jsonscan.String || err != nil {
			return market.Candle{}, false
		}
	}
	c := market.Candle{Market: d.syms.Market(symbol), Interval: market.I1m, OpenTime: start, Open: x[0], High: x[1], Low: x[2],
		Close: x[3], Volume: x[4], Quote: x[5], State: market.Provisional, Source: market.SourceKline}
	if c.Validate() != nil {
		return market.Candle{}, false
	}
	if confirm {
		c.State = market.Reconciled
	}
	return c, true
}
