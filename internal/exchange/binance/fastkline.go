package binance

import (
	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// klineShape is a kline event's keys but "e" (read by event) and "k".
var klineShape = jsonscan.NewShape([]string{"e", "E", "s"}, jsonscan.Strict)

// klineBodyShape is the kline's own keys (k), all of them read or checked,
// in the order Binance sends them.
var klineBodyShape = jsonscan.NewShape([]string{
	"t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"}, jsonscan.Strict)

// Slots of klineBodyShape's keys.
const (
	kOpenT    = 0
	kCloseT   = 1
	kSymbol   = 2
	kInterval = 3
	kFirst    = 4
	kLast     = 5
	kOpen     = 6
	kClose    = 7
	kHigh     = 8
	kLow      = 9
	kVolume   = 10
	kTrades   = 11 // n
	kClosed   = 12 // x
	kQuote    = 13 // q
	kStrings  = 14 // V, Q, B: strings the candle does not use
)

// kDecimals are the slots of the candle's open, high, low, close, volume
// and quote volume.
var kDecimals = [6]int{kOpen, kHigh, kLow, kClose, kVolume, kQuote}

// kline reads the members of a kline event whose k member holds the
// candle; ok is false for anything Decode would answer otherwise.
func (d *Decoder) kline(it *jsonscan.Iter) (Event, bool) {
	head := [3]jsonscan.Value{{Kind: jsonscan.String, Raw: []byte("kline")}} // "e", read by event
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
	ints, ok := klineInts(&v)
	closed, ok2 := jsonscan.Bool(v[kClosed])
	if !ok || !ok2 || v[kSymbol].Kind != jsonscan.String || v[kInterval].Kind != jsonscan.String || string(v[kInterval].Raw) != "1m" {
		return market.Candle{}, false
	}
	var dec [6]market.Decimal
	for i, slot := range kDecimals {
		x, err := market.ParseDecimalBytes(v[slot].Raw)
		if v[slot].Kind != jsonscan.String || err != nil {
			return market.Candle{}, false
		}
		dec[i] = x
	}
	for _, s := range v[kStrings:] {
		if s.Kind != jsonscan.String {
			return market.Candle{}, false
		}
	}
	open := ints[kOpenT]
	c := market.Candle{Market: d.syms.Market(v[kSymbol].Raw), Interval: market.I1m, OpenTime: open,
		Open: dec[0], High: dec[1], Low: dec[2], Close: dec[3], Volume: dec[4], Quote: dec[5], Trades: ints[kTrades],
		State: market.Provisional, Source: market.SourceKline, LastSeq: max(ints[kLast], 0)}
	if closed {
		c.State = market.Reconciled
	}
	if ints[kCloseT] != open+market.I1m.Millis()-1 || c.Validate() != nil {
		return market.Candle{}, false
	}
	return c, true
}

// klineInts reads the kline's integers (t, T, f, L and n) by their slots;
// ok is false unless every one is an integer.
func klineInts(v *[17]jsonscan.Value) (ints [17]int64, ok bool) {
	for _, slot := range [...]int{kOpenT, kCloseT, kFirst, kLast, kTrades} {
		if ints[slot], ok = jsonscan.Int(v[slot]); !ok {
			return ints, false
		}
	}
	return ints, true
}
