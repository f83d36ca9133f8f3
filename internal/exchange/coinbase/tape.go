package coinbase

import "github.com/candlewire/candlewire/internal/market"

// heartbeatMargin is how far past a minute's end a heartbeat must be before
// it settles the minute: room for the venue's heartbeat clock running a
// little ahead of its matching engine's.
const heartbeatMargin = 2_000

// tape follows one product's matches and settles each minute whose trades
// are proven complete, as a final candle. trade_id grows by one per match,
// so a match whose id follows the last one proves that nothing came
// between them; a heartbeat whose last_trade_id is still the last match
// proves that nothing came after it up to the heartbeat's time.
type tape struct {
	m       market.Market
	last    int64          // trade id of the newest match; 0: none known yet
	close   market.Decimal // its price
	cur     *market.Candle // the minute being built; nil: none
	whole   bool           // cur holds every trade of its minute so far
	settled int64          // every minute opening before this is settled: final made, or left to repair
	// floor: the first last_match is in, and no exchange time since. The
	// minutes between it and the first time seen are not this process's to
	// make: a quiet product's last match may be days old.
	floor bool
}

func newTape(m market.Market) *tape { return &tape{m: m} }

// match applies one trade (a match, FirstSeq = LastSeq = trade_id) and
// appends the finals it settles to out.
func (p *tape) match(t market.Trade, out []market.Candle) []market.Candle {
	id := t.LastSeq
	if p.last != 0 && id <= p.last {
		return out // a duplicate, or older than what is settled
	}
	cont := p.last != 0 && id == p.last+1
	minute := market.I1m.Truncate(t.Time)
	p.raise(minute)
	if p.cur != nil && minute > p.cur.OpenTime {
		p.whole = p.whole && cont // a missed trade may be cur's
		out = p.end(out)
	}
	switch {
	case p.cur == nil && minute < p.settled:
		// A match in a minute already settled: the rest of the minute whose
		// start was missed (after last_match), or trade times that went
		// backwards. It only moves the last id on.
	case p.cur == nil:
		if cont {
			out = p.flats(out, minute)
		}
		p.cur = &market.Candle{Market: p.m, Interval: market.I1m, OpenTime: minute, Open: t.Price, High: t.Price, Low: t.Price,
			State: market.Reconciled, Source: market.SourceTrades}
		p.whole = cont // the previous match was in an earlier minute
		p.settled = minute
		fallthrough
	default:
		add(p.cur, t)
		p.whole = p.whole && cont
	}
	p.last, p.close = id, t.Price
	return out
}

// lastMatch applies the last_match sent on subscribe: the newest trade
// before the feed's first match. On the first connection it is the point
// that continuity starts from; after a reconnect, when it follows the last
// match it is that match, and when it is further on, the trades between
// were missed.
// It reports whether t was new and applied as a match, so that it should
// be delivered as a trade too.
func (p *tape) lastMatch(t market.Trade, out []market.Candle) ([]market.Candle, bool) {
	switch id := t.LastSeq; {
	case p.last == 0 || id > p.last+1:
		p.floor = p.last == 0
		p.cur, p.whole = nil, false // what cur had is not all of its minute
		p.last, p.close = id, t.Price
		p.settled = market.I1m.Truncate(t.Time) + market.I1m.Millis()
	case id == p.last+1:
		return p.match(t, out), true
	}
	return out, false
}

// heartbeat applies a heartbeat: lastID was the product's last trade at
// exchange time at. When it is the last match, every minute that ended
// before at (by a margin) is settled.
func (p *tape) heartbeat(lastID, at int64, out []market.Candle) []market.Candle {
	if p.last == 0 || lastID != p.last {
		return out
	}
	minute := market.I1m.Truncate(at - heartbeatMargin)
	p.raise(minute)
	if p.cur != nil && p.cur.OpenTime < minute {
		out = p.end(out)
	}
	if p.cur == nil && p.settled < minute {
		out = p.flats(out, minute)
		p.settled = minute
	}
	return out
}

// raise moves settled up to minute, the first exchange time seen after the
// first last_match.
func (p *tape) raise(minute int64) {
	if p.floor {
		p.settled, p.floor = max(p.settled, minute), false
	}
}

// end closes cur, making it final when it is whole.
func (p *tape) end(out []market.Candle) []market.Candle {
	if p.whole {
		out = append(out, *p.cur)
	}
	p.settled, p.cur, p.whole = p.cur.OpenTime+market.I1m.Millis(), nil, false
	return out
}

// flats appends the empty minutes from settled up to before minute: flat
// at the last price, with no volume.
func (p *tape) flats(out []market.Candle, minute int64) []market.Candle {
	for t := p.settled; t < minute; t += market.I1m.Millis() {
		c := market.Flat(p.m, t, p.close, market.SourceTrades)
		c.LastSeq = p.last
		out = append(out, c)
	}
	return out
}

// add applies one match to c: the minute's candle so far.
func add(c *market.Candle, t market.Trade) {
	if t.Price.GreaterThan(c.High) {
		c.High = t.Price
	}
	if t.Price.LessThan(c.Low) {
		c.Low = t.Price
	}
	c.Close, c.Volume, c.Quote = t.Price, c.Volume.Add(t.Size), c.Quote.Add(t.Quote)
	c.Trades++
	c.LastSeq = t.LastSeq
}

// Tapes settles the minutes of a set of products, one tape each. It is
// what the feed runs every match, last_match and heartbeat through.
type Tapes struct {
	tapes map[market.Market]*tape
	out   []market.Candle
}

// NewTapes returns the tapes of ms.
func NewTapes(ms []market.Market) *Tapes {
	t := &Tapes{tapes: make(map[market.Market]*tape, len(ms))}
	for _, m := range ms {
		t.tapes[m] = newTape(m)
	}
	return t
}

// Has reports whether m has a tape.
func (t *Tapes) Has(m market.Market) bool { return t.tapes[m] != nil }

// Apply runs a decoded match, last_match or heartbeat through its
// product's tape. It reports whether the event's trade is new and should be
// delivered, and returns the finals it settled (valid until the next
// Apply); ok is false when the product has no tape.
func (t *Tapes) Apply(e Event) (trade bool, finals []market.Candle, ok bool) {
	p := t.tapes[e.Market]
	if p == nil {
		return false, nil, false
	}
	switch e.Kind {
	case KindMatch:
		t.out, trade = p.match(e.Trade, t.out[:0]), true
	case KindLastMatch:
		t.out, trade = p.lastMatch(e.Trade, t.out[:0])
	case KindHeartbeat:
		t.out = p.heartbeat(e.LastTradeID, e.Time, t.out[:0])
	default:
		return false, nil, true
	}
	return trade, t.out, true
}
