package collector

import (
	"context"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// rollEvery is how often at most a market's coarser bins are rebuilt from
// a new version of its forming minute. Every flush stores the minute
// itself (its stream updates each flush), but its eight coarser bins,
// eight of the nine rows a flush writes for the market, wait until a
// second has passed since they were last rebuilt: the still-open candles
// of 3m to 1d are conflated to one update a second. A minute that closes
// or is reconciled, or any other change, rebuilds them at once, and so
// does the final flush, so a stored coarser bin is never left behind a
// final minute.
const rollEvery = time.Second

// cadence is the writer's memory of when each market's coarser bins were
// last rebuilt and which stored forming minutes still owe them a rebuild.
// It is used under the writer's flushMu.
type cadence struct {
	last map[market.Market]time.Time
	owed map[market.Market][]market.Candle // stored forming minutes, as stored
}

// rolls is one write's decision: the candles to roll up now, and the
// markets it rebuilt and put off.
type rolls struct {
	now     []market.Candle
	rolled  map[market.Market]bool
	putOff  map[market.Market][]market.Candle
	flushed bool // every owed minute is rolled up (the final flush)
}

// plan decides, for a write whose store changes are changed, what to roll
// up now: every change that is not a forming minute, a forming minute of
// a market not rebuilt in the last second, and with either, every minute
// its market owes; the owed minutes of markets whose second has passed
// even without a change; everything when all is set.
func (cd *cadence) plan(changed []market.Candle, at time.Time, all bool) rolls {
	r := rolls{rolled: map[market.Market]bool{}, putOff: map[market.Market][]market.Candle{}, flushed: all}
	for _, c := range changed {
		if !all && c.Interval == market.I1m && c.State == market.Provisional && at.Sub(cd.last[c.Market]) < rollEvery {
			r.putOff[c.Market] = append(r.putOff[c.Market], c)
			continue
		}
		r.now = append(r.now, c)
		r.rolled[c.Market] = true
	}
	for m, owed := range cd.owed {
		if all || r.rolled[m] || at.Sub(cd.last[m]) >= rollEvery {
			r.now = append(r.now, newest(owed, changed)...)
			r.rolled[m] = true
		}
	}
	for m, cs := range r.putOff {
		if r.rolled[m] {
			r.now = append(r.now, cs...)
			delete(r.putOff, m)
		}
	}
	return r
}

// newest are the owed minutes that changed does not hold a newer version
// of.
func newest(owed, changed []market.Candle) []market.Candle {
	var out []market.Candle
	for _, o := range owed {
		fresh := true
		for _, c := range changed {
			if c.Key() == o.Key() {
				fresh = false
				break
			}
		}
		if fresh {
			out = append(out, o)
		}
	}
	return out
}

// apply records a committed write's decision.
func (cd *cadence) apply(r rolls, at time.Time) {
	if cd.last == nil {
		cd.last, cd.owed = map[market.Market]time.Time{}, map[market.Market][]market.Candle{}
	}
	for m := range r.rolled {
		cd.last[m] = at
		delete(cd.owed, m)
	}
	for m, cs := range r.putOff {
		for _, c := range cs {
			cd.owe(m, c)
		}
	}
}

// owe adds a stored forming minute to what m owes, replacing an older
// version of its bin.
func (cd *cadence) owe(m market.Market, c market.Candle) {
	for i, o := range cd.owed[m] {
		if o.Key() == c.Key() {
			cd.owed[m][i] = c
			return
		}
	}
	cd.owed[m] = append(cd.owed[m], c)
}

// due reports whether a market owes a rebuild whose second has passed.
func (cd *cadence) due(at time.Time) bool {
	for m := range cd.owed {
		if at.Sub(cd.last[m]) >= rollEvery {
			return true
		}
	}
	return false
}

// owes reports whether any market owes a rebuild.
func (cd *cadence) owes() bool { return len(cd.owed) > 0 }

// deriveWith is the store.Derive of a write: the rollups of what plan
// picks from its changes, the decision kept in *r for apply.
func (cd *cadence) deriveWith(at time.Time, all bool, r *rolls) store.Derive {
	return func(ctx context.Context, rd store.Reader, changed []market.Candle) ([]market.Candle, error) {
		*r = cd.plan(changed, at, all)
		return candle.Rollup(ctx, rd, r.now)
	}
}
