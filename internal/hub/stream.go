package hub

import (
	"fmt"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
)

// Stream is one market's candles of one interval.
type Stream struct {
	Market   market.Market
	Interval market.Interval
}

// StreamOf returns the stream a candle belongs to.
func StreamOf(c market.Candle) Stream { return Stream{c.Market, c.Interval} }

// String renders the stream as MARKET@INTERVAL, e.g. binance:BTCUSDT@1m.
func (s Stream) String() string { return s.Market.String() + "@" + string(s.Interval) }

// ParseStream reads MARKET@INTERVAL; the interval defaults to 1m.
func ParseStream(s string) (Stream, error) {
	mk, ivs, found := strings.Cut(strings.TrimSpace(s), "@")
	m, err := market.ParseMarket(mk)
	if err != nil {
		return Stream{}, fmt.Errorf("stream %q: %w", s, err)
	}
	iv := market.I1m
	if found {
		if iv, err = market.ParseInterval(ivs); err != nil {
			return Stream{}, fmt.Errorf("stream %q: %w", s, err)
		}
	}
	return Stream{m, iv}, nil
}

// ParseStreams reads a comma-separated list of streams.
func ParseStreams(list string) ([]Stream, error) {
	var out []Stream
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		st, err := ParseStream(s)
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
