package candle

import (
	"github.com/candlewire/candlewire/internal/market"
)

// Stats counts what an engine saw. Fields only grow.
type Stats struct {
	Trades       int64 // trades applied
	Duplicates   int64 // trades already included (replayed after reconnect)
	LateTrades   int64 // trades for a bin that was already closed
	SeqGaps      int64 // jumps in the venue's trade ids (missed trades)
	StaleBins    int64 // venue bins older than the current one
	ClosedByData int64 // bins closed by a later trade or bin
	Corrections  int64 // venue finals that differed from the trade-built candle
}

// keepClosed is how many closed, not yet reconciled minutes an engine keeps
// to compare with the venue's final: the newest 16, each in the slot of its
// minute number, so keeping them never allocates.
const keepClosed = 16

// Engine builds the 1-minute candles of one market.
type Engine struct {
	market  market.Market
	cur     *market.Candle            // the forming 1m candle (points at forming[0]), or nil
	forming [1]market.Candle          // where cur points: a new minute does not allocate, and Trades returns it as is
	lastSeq int64                     // last venue trade id included in cur
	now     int64                     // latest exchange time seen
	closed  [keepClosed]market.Candle // trade-built minutes awaiting the venue's final, by minute
	resync  bool                      // trades may have been missed: the next trade's minute is partial
	trusted int64                     // minutes opening before this were seen only in part
	stats   Stats
	out     []market.Candle // reused for what Trade and Bin return
	opts    Options
	finalTo int64 // Unmergeable: every minute before this has its venue final
}

// Options describe a venue's bins to an engine.
type Options struct {
	// Unmergeable: the venue's bins carry no last trade id (OKX, Bybit,
	// Kraken), so a forming bin cannot say which trades it includes, and
	// they may run ahead of the trades (OKX sends them on another
	// connection). Its forming bins are then ignored: the forming candle is
	// built from trades alone, and only trades close it. A final is
	// compared only with a candle that trades have closed, never with one
	// whose last trades may still be on their way; trades of a minute whose
	// final is in are late.
	Unmergeable bool
	// NoCount: the venue's finals report no trade count (OKX, Bybit), so
	// counts are not compared.
	NoCount bool
}

// NewEngine returns an engine for one market of a venue whose bins carry
// a trade count.
func NewEngine(m market.Market) *Engine { return NewEngineWith(m, Options{}) }

// NewEngineWith returns an engine for one market.
func NewEngineWith(m market.Market, o Options) *Engine {
	return &Engine{market: m, resync: true, opts: o}
}

// Resync says trades may have been missed (a reconnect): the minute of the
// next trade, and any before it, were seen only in part, so their
// trade-built candles are not compared with the venue's finals.
func (e *Engine) Resync() { e.resync = true }

// Stats returns the counters.
func (e *Engine) Stats() Stats { return e.stats }

// Now is the latest exchange time seen in any trade or bin (UTC ms).
func (e *Engine) Now() int64 { return e.now }

// Current returns the forming candle, if any.
func (e *Engine) Current() (market.Candle, bool) {
	if e.cur == nil {
		return market.Candle{}, false
	}
	return *e.cur, true
}

func (e *Engine) observe(t int64) {
	if t > e.now {
		e.now = t
	}
}

// Trade applies one trade and returns the candle versions it produced (the
// previous bin closed, and the updated forming bin). The slice is valid
// until the engine's next call; copy what must be kept. It may be the
// engine's own forming candle: read it, never write to it.
func (e *Engine) Trade(t market.Trade) []market.Candle {
	one := [1]market.Trade{t}
	return e.Trades(one[:])
}

// Trades applies trades in order, as Trade would one by one, and returns
// the versions they produced: each bin they closed, then the forming bin
// once, as the last trade left it (the versions between are conflated, as
// every consumer of forming candles does). Nil when none applied. The
// slice is valid until the engine's next call, as for Trade.
func (e *Engine) Trades(ts []market.Trade) []market.Candle {
	out, applied := e.out[:0], false
	for i := range ts {
		var ok bool
		if out, ok = e.apply(&ts[i], out); ok {
			applied = true
		}
	}
	switch {
	case !applied:
		return nil // nothing closed either: only an applied trade closes a bin
	case len(out) == 0:
		return e.forming[:] // the forming candle alone, not copied
	}
	return e.emit(append(out, *e.cur))
}

// apply puts one trade into the forming candle, first appending to out the
// bin it closes; ok is false for a duplicate or late trade.
func (e *Engine) apply(t *market.Trade, out []market.Candle) ([]market.Candle, bool) {
	e.observe(t.Time)
	if t.LastSeq > 0 && t.LastSeq <= e.lastSeq {
		e.stats.Duplicates++
		return out, false
	}
	open := market.I1m.Truncate(t.Time)
	if e.resync {
		e.resync, e.trusted = false, open+market.I1m.Millis()
	}
	switch {
	case e.cur != nil && open < e.cur.OpenTime:
		e.stats.LateTrades++
		return out, false
	case open < e.finalTo: // the venue's final, already in, includes it
		e.stats.LateTrades++
		e.lastSeq = max(e.lastSeq, t.LastSeq)
		return out, false
	case e.cur == nil || open > e.cur.OpenTime:
		out = e.closeCurrent(out)
		e.cur = e.fresh(open, t)
	case e.cur.Trades == 0:
		// The venue's forming bin of a minute with no trades yet carries the
		// previous close as open, high and low; the first trade replaces it.
		e.cur = e.fresh(open, t)
	}
	if t.FirstSeq > 0 && e.lastSeq > 0 && t.FirstSeq > e.lastSeq+1 {
		e.stats.SeqGaps++
	}
	addTrade(e.cur, t)
	if t.LastSeq > 0 {
		e.lastSeq = t.LastSeq
	}
	e.stats.Trades++
	return out, true
}

// addTrade puts trade t into candle c.
func addTrade(c *market.Candle, t *market.Trade) {
	if t.Price.GreaterThan(c.High) {
		c.High = t.Price
	}
	if t.Price.LessThan(c.Low) {
		c.Low = t.Price
	}
	c.Close, c.Source = t.Price, market.SourceTrades
	c.Volume = c.Volume.Add(t.Size)
	c.Quote = c.Quote.Add(t.Quote)
	c.Trades += tradeCount(t)
	if t.LastSeq > 0 {
		c.LastSeq = t.LastSeq
	}
}

// fresh starts the minute at open with trade t as its open, high and low.
func (e *Engine) fresh(open int64, t *market.Trade) *market.Candle {
	return e.adopt(market.Candle{Market: e.market, Interval: market.I1m, OpenTime: open,
		Open: t.Price, High: t.Price, Low: t.Price, State: market.Provisional, Source: market.SourceTrades})
}

// adopt makes c the forming candle.
func (e *Engine) adopt(c market.Candle) *market.Candle {
	e.forming[0] = c
	return &e.forming[0]
}

// tradeCount is how many venue trades one reported trade stands for
// (Binance aggregates fills of one order: l-f+1).
func tradeCount(t *market.Trade) int64 {
	if t.FirstSeq > 0 && t.LastSeq >= t.FirstSeq {
		return t.LastSeq - t.FirstSeq + 1
	}
	return 1
}

// Bin applies a venue candle: a forming bin (State Provisional, e.g. a
// Binance kline push with x:false) or a final one (State Reconciled). The
// slice is valid until the engine's next call, as for Trade.
func (e *Engine) Bin(b market.Candle) []market.Candle {
	b.Market, b.Interval = e.market, market.I1m
	e.observe(b.OpenTime)
	out := e.out[:0]
	if e.opts.Unmergeable && b.State != market.Reconciled {
		return e.emit(out) // the trades build (and close) the forming candle
	}
	if e.cur != nil && b.OpenTime > e.cur.OpenTime {
		out = e.closeCurrent(out)
	}
	if b.State == market.Reconciled {
		if b.OpenTime+market.I1m.Millis() > e.now {
			e.now = b.OpenTime + market.I1m.Millis()
		}
		e.compare(b)
		if e.cur != nil && e.cur.OpenTime == b.OpenTime {
			e.cur = nil
		}
		if e.opts.Unmergeable {
			e.finalTo = max(e.finalTo, b.OpenTime+market.I1m.Millis())
		}
		if b.LastSeq > e.lastSeq {
			e.lastSeq = b.LastSeq
		}
		return e.emit(append(out, b))
	}
	switch {
	case e.cur != nil && b.OpenTime < e.cur.OpenTime:
		e.stats.StaleBins++
		return e.emit(out)
	case e.cur == nil || b.OpenTime > e.cur.OpenTime || b.LastSeq > e.lastSeq || e.partial(b):
		// The venue's forming bin covers trades we have not seen (we joined
		// mid-minute or missed some): adopt it, and skip any trade it already
		// includes.
		e.cur = e.adopt(b)
		if b.LastSeq > e.lastSeq {
			e.lastSeq = b.LastSeq
		}
		return e.emit(append(out, b))
	}
	return e.emit(out) // our trade-built candle is already at least as fresh
}

// partial reports whether the forming candle was seen only in part (the
// minute a (re)connect joined) while the venue's bin b reaches the same
// last trade: b then holds the trades before ours too.
func (e *Engine) partial(b market.Candle) bool {
	return b.LastSeq > 0 && b.LastSeq == e.lastSeq && e.cur.OpenTime < e.trusted && e.cur.Source == market.SourceTrades
}

// emit keeps out's backing array for the next call and returns out.
func (e *Engine) emit(out []market.Candle) []market.Candle {
	e.out = out
	return out
}

func (e *Engine) closeCurrent(out []market.Candle) []market.Candle {
	if e.cur == nil {
		return out
	}
	c := *e.cur
	c.State = market.Closed
	e.cur = nil
	e.stats.ClosedByData++
	if c.Source == market.SourceTrades {
		*e.slot(c.OpenTime) = c
	}
	return append(out, c)
}

// compare counts a venue final that differs from what trades built. The
// venue's values win either way; see market.Candle.Disagrees.
func (e *Engine) compare(final market.Candle) {
	slot := e.slot(final.OpenTime)
	built, ok := *slot, slot.Interval != "" && slot.OpenTime == final.OpenTime
	if ok {
		*slot = market.Candle{}
	}
	if !ok && !e.opts.Unmergeable && e.cur != nil && e.cur.OpenTime == final.OpenTime && e.cur.Source == market.SourceTrades {
		built, ok = *e.cur, true
	}
	if e.opts.NoCount {
		built.Trades = final.Trades // not reported by the venue
	}
	if ok && final.OpenTime >= e.trusted && built.Disagrees(final) {
		e.stats.Corrections++
	}
}

// slot is where the closed minute opening at open is kept.
func (e *Engine) slot(open int64) *market.Candle {
	return &e.closed[uint64(open/market.I1m.Millis())%keepClosed]
}
