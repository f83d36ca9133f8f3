package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/candlewire/candlewire/internal/market"
)

// ensure adds the series of cs this process has not seen stored, each
// only for a valid candle (an invalid one is refused by the merge and
// must not leave a series behind).
func (b *batch) ensure(ctx context.Context, cs []market.Candle) error {
	var vs, ss, is []string
	seen := map[market.Series]bool{}
	for _, c := range cs {
		sr := market.SeriesOf(c)
		if seen[sr] || b.known.has(sr) || c.Validate() != nil {
			continue
		}
		seen[sr] = true
		vs, ss, is = append(vs, sr.Market.Venue), append(ss, sr.Market.Symbol), append(is, string(sr.Interval))
		b.series = append(b.series, sr)
	}
	if len(vs) == 0 {
		return nil
	}
	_, err := b.tx.Exec(ctx, `INSERT INTO series (venue, symbol, interval)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`, vs, ss, is)
	if err != nil {
		return fmt.Errorf("add %d series: %w", len(vs), err)
	}
	return nil
}

// seriesSet are the series a store has seen committed: their rows exist,
// so a write need not add them.
type seriesSet struct {
	mu  sync.Mutex
	set map[market.Series]bool
}

func (k *seriesSet) has(sr market.Series) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.set[sr]
}

// hasAll reports whether every candle's series is in the set.
func (k *seriesSet) hasAll(cs []market.Candle) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range cs {
		if !k.set[market.SeriesOf(c)] {
			return false
		}
	}
	return true
}

func (k *seriesSet) add(srs []market.Series) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set == nil {
		k.set = map[market.Series]bool{}
	}
	for _, sr := range srs {
		k.set[sr] = true
	}
}

func (k *seriesSet) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.set = nil
}
