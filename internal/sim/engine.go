package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/quagmt/udecimal"

	"github.com/candlewire/candlewire/internal/market"
)

// Spec describes how a simulated instrument's numbers look.
type Spec struct {
	PricePrec uint8 // decimal places of prices
	Tick      int64 // price step in units of 10^-PricePrec
	Start     int64 // first price in units of 10^-PricePrec
	SizePrec  uint8 // decimal places of sizes
	Lot       int64 // size step in units of 10^-SizePrec
	Step      int64 // typical price move per trade, in ticks; 0 means 1
	// Contracts: the size is in contracts worth 1 quote unit each (BitMEX
	// XBTUSD), so quote = size and base = size / price.
	Contracts bool
}

// Trade is one simulated trade.
type Trade struct {
	Seq   int64 // 1-based position in the symbol's trade log (aggregate trade id)
	Time  int64 // UTC ms
	Price int64 // in units of 10^-PricePrec
	Size  int64 // in units of 10^-SizePrec
	First int64 // first underlying fill id
	Last  int64 // last underlying fill id
	Buy   bool  // taker bought
}

// Instrument generates one symbol's trades and keeps its log.
type Instrument struct {
	Venue, Symbol string
	Spec          Spec
	seed          uint64
	mu            sync.Mutex
	rng           *rand.Rand
	log           []Trade
	cur           int64 // generation cursor, UTC ms
	next          int64 // time of the drawn next trade; 0 when none is drawn
	price         int64
	fill          int64
}

// maxLog bounds each instrument's trade log; older trades are forgotten.
const maxLog = 2_000_000

func newInstrument(seed uint64, venue, symbol string, spec Spec, start int64) *Instrument {
	h := fnv.New64a()
	h.Write([]byte(venue + ":" + symbol))
	s := seed ^ h.Sum64()
	return &Instrument{Venue: venue, Symbol: symbol, Spec: spec, seed: s, rng: rand.New(rand.NewPCG(s, s>>7|1)),
		cur: start, price: spec.Start}
}

// anchor generates the trades before at and moves their prices by as much
// as puts the last one at price (rounded down to the tick, at least one
// tick): the walk goes on from price.
func (in *Instrument) anchor(at int64, price market.Decimal) {
	in.Advance(at - 1)
	in.mu.Lock()
	defer in.mu.Unlock()
	units, err := price.Mul64(pow10(in.Spec.PricePrec)).Int64()
	if err != nil || units < in.Spec.Tick {
		return
	}
	delta := units - units%in.Spec.Tick - in.price
	for i := range in.log {
		in.log[i].Price = max(in.log[i].Price+delta, in.Spec.Tick)
	}
	in.price = max(in.price+delta, in.Spec.Tick)
}

// pow10 is 10^n.
func pow10(n uint8) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// minuteRate is the mean trades per second in the minute starting at m:
// about 8% of minutes are empty, 15% bursty. It depends only on the seed
// and the minute, so it is the same however the engine is advanced.
func (in *Instrument) minuteRate(m int64) float64 {
	r := rand.New(rand.NewPCG(in.seed^uint64(m), 0x9e3779b97f4a7c15))
	switch x := r.Float64(); {
	case x < 0.08:
		return 0
	case x < 0.23:
		return 3 + 4*r.Float64()
	default:
		return 0.2 + 0.8*r.Float64()
	}
}

// Advance generates every trade up to and including time to.
func (in *Instrument) Advance(to int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for {
		if in.next == 0 {
			in.next = in.draw()
		}
		if in.next > to {
			return
		}
		in.cur, in.next = in.next, 0
		in.emit()
	}
}

// draw returns the time of the next trade after the cursor. The draw is
// kept until that time is reached, so the sequence of random numbers, and
// therefore the trades, do not depend on how the engine is advanced.
func (in *Instrument) draw() int64 {
	for {
		m := market.I1m.Truncate(in.cur)
		end := m + market.I1m.Millis()
		rate := in.minuteRate(m)
		if rate == 0 {
			in.cur = end
			continue
		}
		gap := max(int64(math.Ceil(in.rng.ExpFloat64()/rate*1000)), 1)
		if in.cur+gap >= end { // memoryless: restart the draw in the next minute
			in.cur = end
			continue
		}
		return in.cur + gap
	}
}

func (in *Instrument) emit() {
	move := int64(math.Round(in.rng.NormFloat64() * float64(max(in.Spec.Step, 1))))
	in.price = max(in.price+move*in.Spec.Tick, in.Spec.Tick)
	fills := int64(1 + in.rng.IntN(3))
	size := in.Spec.Lot * int64(1+in.rng.ExpFloat64()*20)
	t := Trade{Seq: int64(len(in.log)) + 1, Time: in.cur, Price: in.price, Size: size,
		First: in.fill + 1, Last: in.fill + fills, Buy: move >= 0}
	if n := len(in.log); n > 0 {
		t.Seq = in.log[n-1].Seq + 1
	}
	in.fill += fills
	in.log = append(in.log, t)
	if len(in.log) > maxLog {
		in.log = append([]Trade(nil), in.log[len(in.log)-maxLog/2:]...)
	}
}

// Trades returns the logged trades with from <= Time < to.
func (in *Instrument) Trades(from, to int64) []Trade {
	in.mu.Lock()
	defer in.mu.Unlock()
	i := sort.Search(len(in.log), func(i int) bool { return in.log[i].Time >= from })
	j := sort.Search(len(in.log), func(i int) bool { return in.log[i].Time >= to })
	return append([]Trade(nil), in.log[i:j]...)
}

// After returns the logged trades with Seq > seq and Time <= upTo.
func (in *Instrument) After(seq, upTo int64) []Trade {
	in.mu.Lock()
	defer in.mu.Unlock()
	i := sort.Search(len(in.log), func(i int) bool { return in.log[i].Seq > seq })
	j := sort.Search(len(in.log), func(i int) bool { return in.log[i].Time > upTo })
	if i >= j {
		return nil
	}
	return append([]Trade(nil), in.log[i:j]...)
}

// Page returns up to n logged trades with Seq < below (any Seq when below
// is 0) and Time <= upTo: the newest such, oldest first.
func (in *Instrument) Page(below int64, n int, upTo int64) []Trade {
	in.mu.Lock()
	defer in.mu.Unlock()
	j := sort.Search(len(in.log), func(i int) bool { return in.log[i].Time > upTo })
	if below > 0 {
		j = min(j, sort.Search(len(in.log), func(i int) bool { return in.log[i].Seq >= below }))
	}
	return append([]Trade(nil), in.log[max(j-n, 0):j]...)
}

// LastBefore returns the last trade before t, if any is logged.
func (in *Instrument) LastBefore(t int64) (Trade, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	i := sort.Search(len(in.log), func(i int) bool { return in.log[i].Time >= t })
	if i == 0 {
		return Trade{}, false
	}
	return in.log[i-1], true
}

// Price converts price units to a decimal.
func (in *Instrument) Price(p int64) market.Decimal {
	return udecimal.MustFromInt64(p, in.Spec.PricePrec)
}

// Size converts size units to a decimal.
func (in *Instrument) Size(s int64) market.Decimal {
	return udecimal.MustFromInt64(s, in.Spec.SizePrec)
}

// Quote is the quote-currency amount of a trade.
func (in *Instrument) Quote(t Trade) market.Decimal {
	if in.Spec.Contracts {
		return in.Size(t.Size)
	}
	return in.Price(t.Price).Mul(in.Size(t.Size))
}

// StartPrice is a made-up symbol's first price, in ticks: lo plus a
// number below span drawn from the symbol's name, the same every run.
func StartPrice(symbol string, lo, span int64) int64 {
	h := fnv.New32a()
	h.Write([]byte(symbol))
	return lo + int64(h.Sum32())%span
}

// TickSize is the spec's price step as a decimal.
func (sp Spec) TickSize() market.Decimal { return udecimal.MustFromInt64(sp.Tick, sp.PricePrec) }

// LotSize is the spec's size step as a decimal.
func (sp Spec) LotSize() market.Decimal { return udecimal.MustFromInt64(sp.Lot, sp.SizePrec) }

// SplitSymbol splits a symbol written without a separator (BTCUSDT) at the
// first of quotes it ends with.
func SplitSymbol(symbol string, quotes ...string) (base, quote string) {
	for _, q := range quotes {
		if b, ok := strings.CutSuffix(symbol, q); ok && b != "" {
			return b, q
		}
	}
	return symbol, ""
}
