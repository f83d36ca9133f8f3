package candle

import (
	"context"
	"fmt"
	"slices"

	"github.com/candlewire/candlewire/internal/market"
)

// Aggregate builds the candle of interval iv at open from its finer
// constituents, which must be sorted by open time. want is how many
// constituents a complete bin has.
//
// Open is the first constituent's open and close the last one's close, so a
// venue convention such as BitMEX's open = previous close carries through.
// The result is reconciled only when every constituent is present and
// reconciled; closed when the bin's last constituent is final; provisional
// otherwise.
func Aggregate(iv market.Interval, open int64, parts []market.Candle, want int) (market.Candle, bool) {
	if len(parts) == 0 {
		return market.Candle{}, false
	}
	first, last := parts[0], parts[len(parts)-1]
	c := market.Candle{Market: first.Market, Interval: iv, OpenTime: open, Open: first.Open,
		High: first.High, Low: first.Low, Close: last.Close, Source: market.SourceRollup}
	allReconciled := len(parts) == want
	for _, p := range parts {
		if p.High.GreaterThan(c.High) {
			c.High = p.High
		}
		if p.Low.LessThan(c.Low) {
			c.Low = p.Low
		}
		c.Volume = c.Volume.Add(p.Volume)
		c.Quote = c.Quote.Add(p.Quote)
		c.Trades += p.Trades
		allReconciled = allReconciled && p.State == market.Reconciled
	}
	src, _ := iv.Source()
	lastOpen := open + iv.Millis() - src.Millis()
	switch {
	case allReconciled:
		c.State = market.Reconciled
	case last.OpenTime == lastOpen && last.Over():
		c.State = market.Closed
	default:
		c.State = market.Provisional
	}
	return c, true
}

// Reader reads stored candles in [from, to).
type Reader interface {
	Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error)
}

// Rollup returns, for every changed candle, the rebuilt candles of every
// coarser interval that contains it, finest first. Each coarser interval is
// built from the next finer one (see market.Interval.Source), so rebuilding
// reads at most six rows. Candles the caller has not stored yet are passed in
// changed and take precedence over what r returns.
func Rollup(ctx context.Context, r Reader, changed []market.Candle) ([]market.Candle, error) {
	pending := map[market.Key]market.Candle{}
	for _, c := range changed {
		pending[c.Key()] = c
	}
	var out []market.Candle
	level := changed
	for len(level) > 0 {
		var next []market.Candle
		seen := map[market.Key]bool{}
		for _, c := range level {
			for _, p := range c.Interval.Parents() {
				k := market.Key{Market: c.Market, Interval: p, OpenTime: p.Truncate(c.OpenTime)}
				if seen[k] {
					continue
				}
				seen[k] = true
				agg, ok, err := rebuild(ctx, r, k, pending)
				if err != nil {
					return nil, err
				}
				if ok {
					pending[k] = agg
					next = append(next, agg)
				}
			}
		}
		out = append(out, next...)
		level = next
	}
	return out, nil
}

func rebuild(ctx context.Context, r Reader, k market.Key, pending map[market.Key]market.Candle) (market.Candle, bool, error) {
	src, _ := k.Interval.Source()
	end := k.OpenTime + k.Interval.Millis()
	stored, err := r.Candles(ctx, k.Market, src, k.OpenTime, end)
	if err != nil {
		return market.Candle{}, false, fmt.Errorf("read %s %s parts of %d: %w", k.Market, src, k.OpenTime, err)
	}
	parts := make([]market.Candle, 0, k.Interval.Millis()/src.Millis())
	for t := k.OpenTime; t < end; t += src.Millis() {
		if c, ok := pending[market.Key{Market: k.Market, Interval: src, OpenTime: t}]; ok {
			parts = append(parts, c)
		} else if i := slices.IndexFunc(stored, func(c market.Candle) bool { return c.OpenTime == t }); i >= 0 {
			parts = append(parts, stored[i]) // at most six rows: a scan beats a map
		}
	}
	agg, ok := Aggregate(k.Interval, k.OpenTime, parts, int(k.Interval.Millis()/src.Millis()))
	return agg, ok, nil
}
