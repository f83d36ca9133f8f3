package market

import (
	"fmt"
	"strings"
)

// Market names one instrument on one venue, written venue:SYMBOL
// (binance:BTCUSDT, bitmex:XBTUSD).
type Market struct {
	Venue  string
	Symbol string
}

// Default is the market collected when none is configured.
var Default = Market{Venue: "binance", Symbol: "BTCUSDT"}

// ParseMarket parses venue:SYMBOL. The venue is lower-cased and the symbol
// upper-cased.
func ParseMarket(s string) (Market, error) {
	venue, symbol, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || venue == "" || symbol == "" {
		return Market{}, fmt.Errorf("market %q: want venue:SYMBOL, e.g. binance:BTCUSDT", s)
	}
	for _, r := range venue + symbol {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return Market{}, fmt.Errorf("market %q: unexpected character %q", s, r)
		}
	}
	return Market{Venue: strings.ToLower(venue), Symbol: strings.ToUpper(symbol)}, nil
}

// ParseMarkets parses a comma-separated list of markets.
func ParseMarkets(s string) ([]Market, error) {
	var out []Market
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		m, err := ParseMarket(part)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no markets in %q", s)
	}
	return out, nil
}

func (m Market) String() string { return m.Venue + ":" + m.Symbol }
