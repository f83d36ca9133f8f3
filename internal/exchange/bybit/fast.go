package bybit

import (
	"bytes"

	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

var (
	// envelopeShape is the keys the full decoder declares for a frame.
	envelopeShape = jsonscan.NewShape([]string{"topic", "type"}, jsonscan.Declared("data", "op", "success", "ret_msg"))
	// tradeShape is a spot publicTrade row's keys in the order Bybit sends
	// them: every key the full decoder declares, and BT (block trade),
	// which is not read (its slot lets every key of a row be matched in
	// place). Derivatives rows have an L (tick direction) before i: it is
	// skipped, and i found by lookup.
	tradeShape = jsonscan.NewShape([]string{"T", "s", "S", "v", "p", "i", "BT"})
	// klineShape is a kline row's keys in the order Bybit sends them: every
	// key the full decoder declares, and timestamp, which is not read.
	klineShape = jsonscan.NewShape([]string{"start", "end", "interval", "open", "close", "high", "low", "volume", "turnover",
		"confirm", "timestamp"})
)

// Slots of tradeShape's keys that are read.
const (
	tTime   = 0
	tSymbol = 1
	tSide   = 2
	tSize   = 3
	tPrice  = 4
	tID     = 5
)

// tStrings are the slots of tradeShape's keys the full decoder reads as
// strings.
var tStrings = [...]int{tSymbol, tSide, tSize, tPrice, tID}

// Slots of klineShape's keys that are read.
const (
	kStart    = 0
	kEnd      = 1
	kInterval = 2
	kOpen     = 3
	kClose    = 4
	kHigh     = 5
	kLow      = 6
	kVolume   = 7
	kTurnover = 8
	kConfirm  = 9
)

// kDecimals are the slots of a kline's open, high, low, close, volume and
// turnover.
var kDecimals = [6]int{kOpen, kHigh, kLow, kClose, kVolume, kTurnover}

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
	var v [7]jsonscan.Value
	return tradeShape.EachObject(rows, v[:], func() bool {
		ms, ok := jsonscan.Int(v[tTime])
		for _, slot := range tStrings {
			ok = ok && v[slot].Kind == jsonscan.String
		}
		px, err1 := market.ParseDecimalBytes(v[tPrice].Raw)
		sz, err2 := market.ParseDecimalBytes(v[tSize].Raw)
		sym, side := v[tSymbol].Raw, string(v[tSide].Raw)
		if !ok || err1 != nil || err2 != nil || len(sym) == 0 || ms <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || (side != "Buy" && side != "Sell") {
			return false
		}
		d.trades = append(d.trades, market.Trade{Market: d.syms.Market(sym), Time: ms, Price: px, Size: sz, Quote: px.Mul(sz), Buy: side == "Buy"})
		return true
	})
}

// fastKlines reads kline.1 rows of symbol into d.candles; ok is false for
// none.
func (d *Decoder) fastKlines(rows *jsonscan.Iter, symbol []byte) bool {
	d.candles = d.candles[:0]
	var v [11]jsonscan.Value
	return klineShape.EachObject(rows, v[:], func() bool {
		c, ok := d.kline(&v, symbol)
		d.candles = append(d.candles, c)
		return ok
	})
}

// kline converts one row as the full decoder's klineEvent does.
func (d *Decoder) kline(v *[11]jsonscan.Value, symbol []byte) (market.Candle, bool) {
	start, ok1 := jsonscan.Int(v[kStart])
	end, ok2 := jsonscan.Int(v[kEnd])
	confirm, ok3 := jsonscan.Bool(v[kConfirm])
	if !ok1 || !ok2 || !ok3 || end != start+market.I1m.Millis()-1 || v[kInterval].Kind != jsonscan.String || string(v[kInterval].Raw) != "1" {
		return market.Candle{}, false
	}
	var x [6]market.Decimal
	for i, slot := range kDecimals {
		var err error
		if x[i], err = market.ParseDecimalBytes(v[slot].Raw); v[slot].Kind != jsonscan.String || err != nil {
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
