package binance

import (
	"github.com/candlewire/candlewire/internal/jsonscan"
	"github.com/candlewire/candlewire/internal/market"
)

// fast reads {"stream":…,"data":{aggTrade or kline}} and nothing else,
// the event's "e" first as Binance sends it.
func (d *Decoder) fast(data []byte) (Event, bool) {
	if d.syms.Venue == "" {
		d.syms = market.Interner{Venue: Venue, Upper: true}
	}
	it, ok := jsonscan.Members(data)
	if !ok {
		return Event{}, false
	}
	var ev Event
	seen := 0
	for {
		k, ok := it.Key()
		if !ok {
			break
		}
		switch {
		case string(k) == "stream" && seen&1 == 0:
			seen |= 1
			if v, ok := it.Value(); !ok || v.Kind != jsonscan.String {
				return Event{}, false
			}
		case string(k) == "data" && seen&2 == 0:
			seen |= 2
			sub, ok := it.Members()
			if !ok {
				return Event{}, false
			}
			if ev, ok = d.event(&sub); !ok || !it.Resume(&sub) {
				return Event{}, false
			}
		default:
			return Event{}, false
		}
	}
	return ev, seen == 3 && it.End()
}

// event reads an event object whose first member is "e", the event type.
func (d *Decoder) event(it *jsonscan.Iter) (Event, bool) {
	k, e, ok := it.Member()
	if !ok || string(k) != "e" || e.Kind != jsonscan.String {
		return Event{}, false
	}
	switch string(e.Raw) {
	case "aggTrade":
		return d.aggTrade(it)
	case "kline":
		return d.kline(it)
	}
	return Event{}, false
}

// aggTrade field bits, to refuse duplicated keys and require every field.
const (
	fE = 1 << iota
	fET
	fS
	fA
	fP
	fQ
	fF
	fL
	fT
	fM
	fMI
	fAll = 1<<iota - 1
)

// aggTradeFields reads the members of an aggTrade object; ok is false for
// anything unexpected.
type aggTradeFields struct {
	et, a, f, l, t int64
	s, p, q        []byte
	m              bool // buyer is the maker: the taker sold
}

func (d *Decoder) aggTrade(it *jsonscan.Iter) (Event, bool) {
	var a aggTradeFields
	seen := fE // read by event
	for {
		k, v, ok := it.Member()
		if !ok {
			break
		}
		bit, ok := a.set(k, v)
		if !ok || seen&bit != 0 {
			return Event{}, false
		}
		seen |= bit
	}
	if seen|fMI != fAll || it.Err() { // M (ignore) is absent from futures frames
		return Event{}, false
	}
	price, err1 := market.ParseDecimalBytes(a.p)
	size, err2 := market.ParseDecimalBytes(a.q)
	if err1 != nil || err2 != nil || len(a.s) == 0 || a.t <= 0 || price.Sign() <= 0 || size.Sign() < 0 || a.f <= 0 || a.l < a.f {
		return Event{}, false
	}
	return Event{Kind: KindTrade, Time: a.et, Trade: market.Trade{
		Market: d.syms.Market(a.s), Time: a.t, Price: price, Size: size, Quote: price.Mul(size), FirstSeq: a.f, LastSeq: a.l, Buy: !a.m,
	}}, true
}

// set stores one member and returns its bit.
func (a *aggTradeFields) set(k []byte, v jsonscan.Value) (int, bool) {
	if len(k) != 1 {
		return 0, false
	}
	var ok bool
	switch k[0] {
	case 'e':
		return fE, v.Kind == jsonscan.String && string(v.Raw) == "aggTrade"
	case 'E':
		a.et, ok = jsonscan.Int(v)
		return fET, ok
	case 's':
		a.s = v.Raw
		return fS, v.Kind == jsonscan.String
	case 'a':
		a.a, ok = jsonscan.Int(v)
		return fA, ok
	case 'p':
		a.p = v.Raw
		return fP, v.Kind == jsonscan.String
	case 'q':
		a.q = v.Raw
		return fQ, v.Kind == jsonscan.String
	case 'f':
		a.f, ok = jsonscan.Int(v)
		return fF, ok
	case 'l':
		a.l, ok = jsonscan.Int(v)
		return fL, ok
	case 'T':
		a.t, ok = jsonscan.Int(v)
		return fT, ok
	case 'm':
		a.m = v.Kind == jsonscan.True
		return fM, v.Kind == jsonscan.True || v.Kind == jsonscan.False
	case 'M':
		return fMI, v.Kind == jsonscan.True || v.Kind == jsonscan.False
	}
	return 0, false
}
