package binance

import (
	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// klineShape is a kline event's keys, as Binance sends them.
var klineShape = jsonscan.NewShape([]string{"e", "E", "s"}, jsonscan.Strict)

// klineBodyShape is the kline's own keys (k), all of them read or checked.
var klineBodyShape = jsonscan.NewShape([]string{
	"t", "T", "s", "i", "f", "L", "o", "h", "l", "c", "v", "q", "n", "x", "V", "Q", "B"}, jsonscan.Strict)

// Slots of klineBodyShape's keys.
const (
	kOpenT    = 0
	kCloseT   = 1
	kSymbol   = 2
	kInterval = 3
	kFirst    = 4
	kLast     = 5
	kPrices   = 6  // o, h, l, c, v, q: the candle's six decimals
	kTrades   = 12 // n
	kClosed   = 13 // x
	kStrings  = 14 // V, Q, B: strings the candle does not use
)

// kline reads the members of a kline event whose k member holds the
// candle; ok is false for anything Decode would answer otherwise.
func (d *Decoder) kline(it *jsonscan.Iter) (Event, bool) {
	var head [3]jsonscan.Value
	var c market.Candle
	seenK := false
	for {
		k, ok := it.Key()
		if !ok {
			break
		}
		if string(k) != "k" {
			v, ok := it.Value()
			i := klineShape.Index(k)
			if !ok || i < 0 || head[i].Kind != jsonscan.Invalid {
				return Event{}, false
			}
			head[i] = v
			continue
		}
		body, ok := it.Members()
		if seenK || !ok {
			return Event{}, false
		}
		if c, ok = d.klineBody(&body); !ok || !it.Resume(&body) {
			return Event{}, false
		}
		seenK = true
	}
	et, ok := jsonscan.Int(head[1])
	if !seenK || it.Err() || !ok || head[0].Kind != jsonscan.String || string(head[0].Raw) != "kline" || head[2].Kind != jsonscan.String {
		return Event{}, false
	}
	return Event{Kind: KindKline, Time: et, Candle: c}, true
}

// klineBody reads k into the candle Decode builds.
func (d *Decoder) klineBody(it *jsonscan.Iter) (market.Candle, bool) {
	var v [17]jsonscan.Value
	if !klineBodyShape.ReadObject(it, v[:]) {
		return market.Candle{}, false
	}
	for i := range v {
		if v[i].Kind == jsonscan.Invalid {
			return market.Candle{}, false
		}
	}
	var ints [4]int64
	for i, slot := range [...]int{kOpenT, kCloseT, kFirst, kLast} {
		n, ok := jsonscan.Int(v[slot])
		if !ok {
			return market.Candle{}, false
		}
		ints[i] = n
	}
	trades, ok1 := jsonscan.Int(v[kTrades])
	closed, ok2 := jsonscan.Bool(v[kClosed])
	if !ok1 || !ok2 || v[kSymbol].Kind != jsonscan.String || v[kInterval].Kind != jsonscan.String || string(v[kInterval].Raw) != "1m" {
		return market.Candle{}, false
	}
	var dec [6]market.Decimal
	for i := range dec {
		x, err := market.ParseDecimalBytes(v[kPrices+i].Raw)
		if v[kPrices+i].Kind != jsonscan.String || err != nil {
			return market.Candle{}, false
		}
		dec[i] = x
	}
	for _, s := range v[kStrings:] {
		if s.Kind != jsonscan.String {
			return market.Candle{}, false
		}
	}
	open := ints[0]
	c := market.Candle{Market: d.syms.Market(v[kSymbol].Raw), Interval: market.I1m, OpenTime: open,
		Open: dec[0], High: dec[1], Low: dec[2], Close: dec[3], Volume: dec[4], Quote: dec[5], Trades: trades,
		State: market.Provisional, Source: market.SourceKline, LastSeq: max(ints[3], 0)}
	if closed {
		c.State = market.Reconciled
	}
	if ints[1] != open+market.I1m.Millis()-1 || c.Validate() != nil {
		return market.Candle{}, false
	}
	return c, true
}
