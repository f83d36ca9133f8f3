package market

import "strings"

// maxInterned bounds an Interner's table, so a hostile stream of made-up
// symbols cannot grow it; past it, symbols are converted per call.
const maxInterned = 4096

// Interner turns a venue's raw symbol bytes into a Market without
// allocating once the symbol has been seen: decoders use one per
// connection. The zero value is not ready; set Venue (and Upper when the
// venue sends symbols in lower case, or Name when it spells them
// otherwise). An Interner is used by one goroutine at a time.
type Interner struct {
	Venue string
	Upper bool // upper-case the symbol (Binance stream names are lower case)
	// Name, when set, gives the market's symbol of a raw one instead
	// (Kraken's "XBT/USD" is BTC-USD).
	Name  func(raw string) string
	table map[string]interned
	last  interned // the newest looked up: a frame's rows are mostly of one market
}

type interned struct {
	m   Market
	raw string
}

// Market returns the market of raw.
func (in *Interner) Market(raw []byte) Market { return in.lookup(raw).m }

// Raw returns raw as a string, the same string each time once seen (an
// instrument id or a topic that an event carries as it came).
func (in *Interner) Raw(raw []byte) string { return in.lookup(raw).raw }

func (in *Interner) lookup(raw []byte) interned {
	if in.last.raw != "" && string(raw) == in.last.raw {
		return in.last
	}
	if e, ok := in.table[string(raw)]; ok { // string(raw) in a map index does not allocate
		in.last = e
		return e
	}
	e := interned{raw: string(raw)}
	e.m = Market{Venue: in.Venue, Symbol: e.raw}
	switch {
	case in.Name != nil:
		e.m.Symbol = in.Name(e.raw)
	case in.Upper:
		e.m.Symbol = strings.ToUpper(e.raw)
	}
	if in.table == nil {
		in.table = map[string]interned{}
	}
	if len(in.table) < maxInterned {
		in.table[e.raw] = e
	}
	in.last = e
	return e
}
