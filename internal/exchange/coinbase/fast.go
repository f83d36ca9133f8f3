package coinbase

import (
	"errors"

	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// frameShape is the keys the full decoder declares, in the order Coinbase
// sends a match's, with slots that are not read for maker_order_id,
// taker_order_id and sequence (they let every key of a real match be
// matched in place). The fast path leaves a frame with any of the last
// three keys to the full decoder.
var frameShape = jsonscan.NewShape([]string{
	"type", "trade_id", "maker_order_id", "taker_order_id", "side", "size", "price", "product_id", "sequence", "time",
	"last_trade_id", "message", "reason", "channels"})

// Slots of frameShape's keys.
const (
	fType = iota
	fTradeID
	fMaker // not read
	fTaker // not read
	fSide
	fSize
	fPrice
	fProduct
	fSequence // not read
	fTime
	fLastTradeID
	fRest // message, reason, channels: absent from matches and heartbeats
	fKeys = fRest + 3
)

// frameVals is a frame's values by frameShape's slots.
type frameVals = [fKeys]jsonscan.Value

// fast reads a match or a heartbeat; ok is false for anything else.
func (d *Decoder) fast(data []byte) (Event, bool) {
	if d.products.Venue == "" {
		d.products = market.Interner{Venue: Venue}
	}
	it, ok := jsonscan.Members(data)
	var v frameVals
	if !ok || !frameShape.ReadObject(&it, v[:]) || !it.End() {
		return Event{}, false
	}
	for _, x := range v[fRest:] {
		if x.Kind != jsonscan.Invalid {
			return Event{}, false
		}
	}
	switch string(v[fType].Raw) {
	case "match":
		return d.match(&v)
	case "heartbeat":
		return d.heartbeat(&v)
	}
	return Event{}, false
}

// match reads a match as Trade does.
func (d *Decoder) match(v *frameVals) (Event, bool) {
	id, ok1 := jsonscan.Int(v[fTradeID])
	ts, ok2 := d.ts.Millis(v[fTime].Raw)
	px, err1 := decimal(v[fPrice])
	sz, err2 := decimal(v[fSize])
	side, product := string(v[fSide].Raw), v[fProduct].Raw
	if !ok1 || !ok2 || err1 != nil || err2 != nil || v[fType].Kind != jsonscan.String || v[fTime].Kind != jsonscan.String ||
		v[fSide].Kind != jsonscan.String || v[fProduct].Kind != jsonscan.String || v[fLastTradeID].Kind != jsonscan.Invalid {
		return Event{}, false
	}
	if len(product) == 0 || id <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || (side != "buy" && side != "sell") || ts <= 0 {
		return Event{}, false
	}
	m := d.products.Market(product)
	return Event{Kind: KindMatch, Market: m, Trade: market.Trade{Market: m, Time: ts, Price: px, Size: sz,
		Quote: px.Mul(sz), Buy: side == "sell", FirstSeq: id, LastSeq: id}}, true
}

// heartbeat reads a heartbeat as the full decoder does.
func (d *Decoder) heartbeat(v *frameVals) (Event, bool) {
	last, ok1 := jsonscan.Int(v[fLastTradeID])
	ts, ok2 := d.ts.Millis(v[fTime].Raw)
	for _, i := range [...]int{fTradeID, fSide, fSize, fPrice} {
		if v[i].Kind != jsonscan.Invalid {
			return Event{}, false
		}
	}
	if !ok1 || !ok2 || last < 0 || v[fType].Kind != jsonscan.String || v[fTime].Kind != jsonscan.String ||
		v[fProduct].Kind != jsonscan.String || len(v[fProduct].Raw) == 0 {
		return Event{}, false
	}
	return Event{Kind: KindHeartbeat, Market: d.products.Market(v[fProduct].Raw), LastTradeID: last, Time: ts}, true
}

// decimal reads a size or price, which Coinbase sends as a string (the
// full decoder's json.Number takes a number too).
func decimal(v jsonscan.Value) (market.Decimal, error) {
	if v.Kind != jsonscan.String || !jsonscan.IsNumber(v.Raw) {
		return market.Decimal{}, errNotString
	}
	return market.ParseDecimalBytes(v.Raw)
}

var errNotString = errors.New("coinbase: a decimal that is not a string of a JSON number")
