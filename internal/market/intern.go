package market

import "strings"

// maxInterned bounds an Interner's table, so a hostile stream of made-up
// symbols cannot grow it; past it, symbols are converted per call.
const maxInterned = 4096

// Interner turns a venue's raw symbol bytes into a Market without
// allocating once the symbol has been seen: decoders use one per
// connection. The zero value is not ready; set Venue (and Upper when the
// venue sends symbols in lower case). An Interner is used by one goroutine
// at a time.
type Interner struct {
	Venue string
	Upper bool // upper-case the symbol (Binance stream names are lower case)
	table map[string]Market
}

// Market returns the market of raw.
func (in *Interner) Market(raw []byte) Market {
	if m, ok := in.table[string(raw)]; ok { // string(raw) in a map index does not allocate
		return m
	}
	m := Market{Venue: in.Venue, Symbol: string(raw)}
	if in.Upper {
		m.Symbol = strings.ToUpper(m.Symbol)
	}
	if in.table == nil {
		in.table = map[string]Market{}
	}
	if len(in.table) < maxInterned {
		in.table[string(raw)] = m
	}
	return m
}
