package instrument

import (
	"fmt"
	"slices"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
)

// Instrument is one market as its venue lists it.
type Instrument struct {
	Market      market.Market
	Base, Quote string
	Tick        market.Decimal // price step
	Lot         market.Decimal // size step (contracts for BitMEX)
	Trading     bool           // open for trading now
}

// Scale is the decimal places of the market's prices and sizes: those of
// its tick and lot.
func (in Instrument) Scale() (price, size int) { return places(in.Tick), places(in.Lot) }

// places is how many fractional digits d has, trailing zeros aside.
func places(d market.Decimal) int {
	s := d.String()
	_, frac, ok := strings.Cut(s, ".")
	if !ok {
		return 0
	}
	return len(strings.TrimRight(frac, "0"))
}

// Check reports whether an instrument is usable: a market, a positive tick
// and lot.
func (in Instrument) Check() error {
	if in.Market.Venue == "" || in.Market.Symbol == "" {
		return fmt.Errorf("instrument without a market: %+v", in)
	}
	if in.Tick.Sign() <= 0 || in.Lot.Sign() <= 0 {
		return fmt.Errorf("%s: tick %s and lot %s must be positive", in.Market, in.Tick, in.Lot)
	}
	return nil
}

// List is a venue's instruments, sorted by symbol.
type List []Instrument

// Sorted sorts l by symbol and returns it.
func Sorted(l List) List {
	slices.SortFunc(l, func(a, b Instrument) int { return strings.Compare(a.Market.Symbol, b.Market.Symbol) })
	return l
}

// Find returns the instrument of m.
func (l List) Find(m market.Market) (Instrument, bool) {
	i, ok := slices.BinarySearchFunc(l, m.Symbol, func(in Instrument, s string) int { return strings.Compare(in.Market.Symbol, s) })
	if !ok {
		return Instrument{}, false
	}
	return l[i], true
}

// Like returns up to n listed symbols that contain s or that s contains,
// ignoring case and separators: suggestions for a market not listed.
func (l List) Like(s string, n int) []string {
	key := squash(s)
	var out []string
	for _, in := range l {
		k := squash(in.Market.Symbol)
		if len(out) < n && key != "" && (strings.Contains(k, key) || strings.Contains(key, k)) {
			out = append(out, in.Market.Symbol)
		}
	}
	return out
}

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '/' || r == '_' {
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

// New builds and checks an instrument from a venue's text fields.
func New(m market.Market, base, quote, tick, lot string, trading bool) (Instrument, error) {
	t, err1 := market.ParseDecimal(tick)
	l, err2 := market.ParseDecimal(lot)
	if err1 != nil || err2 != nil {
		return Instrument{}, fmt.Errorf("%s: tick %q, lot %q: not decimals", m, tick, lot)
	}
	in := Instrument{Market: m, Base: base, Quote: quote, Tick: t, Lot: l, Trading: trading}
	return in, in.Check()
}
