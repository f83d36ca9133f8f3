package market

import (
	"cmp"
	"fmt"
	"strings"
)

// Series is one market's candles of one interval: what a client
// subscribes to, named MARKET@INTERVAL (binance:BTCUSDT@1m).
type Series struct {
	Market   Market
	Interval Interval
}

// SeriesOf returns the series a candle belongs to.
func SeriesOf(c Candle) Series { return Series{c.Market, c.Interval} }

// String renders the series as MARKET@INTERVAL.
func (s Series) String() string { return s.Market.String() + "@" + string(s.Interval) }

// ParseSeries reads MARKET@INTERVAL; the interval defaults to 1m.
func ParseSeries(s string) (Series, error) {
	mk, ivs, found := strings.Cut(strings.TrimSpace(s), "@")
	m, err := ParseMarket(mk)
	if err != nil {
		return Series{}, fmt.Errorf("stream %q: %w", s, err)
	}
	iv := I1m
	if found {
		if iv, err = ParseInterval(ivs); err != nil {
			return Series{}, fmt.Errorf("stream %q: %w", s, err)
		}
	}
	return Series{m, iv}, nil
}

// ParseSeriesList reads a comma-separated list of series.
func ParseSeriesList(list string) ([]Series, error) {
	var out []Series
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		st, err := ParseSeries(s)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no streams given (want MARKET@INTERVAL,…, e.g. binance:BTCUSDT@1m)")
	}
	return out, nil
}

// Compare orders series by venue, symbol and interval name (the stores'
// key order): -1, 0 or +1.
func (s Series) Compare(o Series) int {
	return cmp.Or(cmp.Compare(s.Market.Venue, o.Market.Venue), cmp.Compare(s.Market.Symbol, o.Market.Symbol),
		cmp.Compare(s.Interval, o.Interval))
}
