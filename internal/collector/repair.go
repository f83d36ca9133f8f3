package collector

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

type repairReq struct {
	m      market.Market
	reason string
	upTo   int64     // exclusive: minutes before this are due and must be reconciled
	first  int64     // first minute this process saw
	asked  time.Time // when the sink asked: the debug log shows how long it queued
}

// repairer fills missing minutes of one venue. Its watermark per market is
// where the next repair starts: every minute before it is reconciled, or a
// finished repair found the venue has no data for it. After a start it is
// the first stored minute, or the start of a ledger entry an earlier
// process left `found`, whichever is earlier (within the look-back,
// Config.MaxRepair): a repair held at a crash is taken up again, and holes
// below the newest reconciled minute are seen. It stays put where REST
// failed, so those minutes are tried again.
type repairer struct {
	c    *Collector
	log  *slog.Logger
	v    Venue
	mark map[market.Market]int64 // 0: not known yet, start at the first minute seen
	// owns, when not nil, are the markets it repairs over REST (a
	// cluster's owner); the others' repairs are their owners'.
	owns *owned
}

func newRepairer(ctx context.Context, c *Collector, v Venue) (*repairer, error) {
	r := &repairer{c: c, v: v, mark: map[market.Market]int64{}, log: c.cfg.Logger.With("component", "repair", "venue", v.Name)}
	for _, m := range v.Markets {
		mark, held, err := startMark(ctx, c.cfg.Store, m)
		if err != nil {
			return nil, fmt.Errorf("read where %s stopped: %w", m, err)
		}
		r.mark[m] = earlier(r.mark[m], mark)
		// Gaps an earlier process left found are this one's to resolve:
		// counted found here too, so each is counted resolved after found.
		c.met.GapsFound.WithLabelValues(m.String()).Add(float64(held))
	}
	return r, nil
}

// promote readies the repair of m, which this repairer only stood by for
// until now: it reaches back to where m's history stands in the store now
// (the first stored minute, or a gap its last owner left found), so it
// covers whatever m missed meanwhile.
func (r *repairer) promote(ctx context.Context, m market.Market) error {
	mark, _, err := startMark(ctx, r.c.cfg.Store, m)
	if err != nil {
		return fmt.Errorf("read where %s stands: %w", m, err)
	}
	r.mark[m] = earlier(r.mark[m], mark)
	return nil
}

// earlier is the earlier of two marks, 0 standing for none.
func earlier(a, b int64) int64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// owned is which of its markets a repairer repairs over REST (a
// cluster's owner), changed in place while it runs; a market it came to
// own that way is promoted until its first repair.
type owned struct {
	mu       sync.Mutex
	ms       []market.Market
	promoted map[market.Market]bool
}

func newOwned(ms []market.Market) *owned {
	return &owned{ms: slices.Clone(ms), promoted: map[market.Market]bool{}}
}

// set makes ms the markets owned and reports whether they changed.
func (o *owned) set(ms []market.Market) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if slices.Equal(ms, o.ms) {
		return false
	}
	promoted := map[market.Market]bool{} // those it owned already keep theirs; those it no longer owns lose it
	for _, m := range ms {
		if !slices.Contains(o.ms, m) || o.promoted[m] {
			promoted[m] = true
		}
	}
	o.ms, o.promoted = slices.Clone(ms), promoted
	return true
}

// has reports whether m is owned, and whether it was promoted since its
// last repair.
func (o *owned) has(m market.Market) (own, promoted bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Contains(o.ms, m), o.promoted[m]
}

// settle records m's first repair since it was promoted.
func (o *owned) settle(m market.Market) {
	o.mu.Lock()
	delete(o.promoted, m)
	o.mu.Unlock()
}

// startMark is the first stored minute of m or the start of its earliest
// ledger entry still `found`, whichever is earlier (0 for neither), and
// how many entries are still found.
func startMark(ctx context.Context, st store.Store, m market.Market) (mark int64, held int, err error) {
	first, err := st.Page(ctx, m, market.I1m, math.MinInt64, math.MaxInt64, 1)
	if err != nil {
		return 0, 0, err
	}
	if len(first) > 0 {
		mark = first[0].OpenTime
	}
	gaps, err := st.Gaps(ctx, m, math.MinInt64, math.MaxInt64)
	if err != nil {
		return 0, 0, err
	}
	for _, g := range gaps {
		if g.Status == store.GapFound {
			held++
			mark = earlier(mark, g.From)
		}
	}
	return mark, held, nil
}

func (r *repairer) run(ctx context.Context, reqs <-chan repairReq) {
	r.reroll(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-reqs:
			start := time.Now()
			err := r.repair(ctx, req)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("gap repair failed; will retry", "market", req.m, "err", err)
			}
			r.log.Debug("repair pass", "market", req.m, "reason", req.reason, "up_to", time.UnixMilli(req.upTo).UTC(),
				"queued", start.Sub(req.asked), "took", time.Since(start))
		}
	}
}

// reroll rebuilds, once at start, the coarser bins of the venue's markets
// whose constituents were stored after them within the look-back before
// the newest stored minute (a crash of an older version between its two
// transactions left them stale).
func (r *repairer) reroll(ctx context.Context) {
	st := r.c.cfg.Store
	for _, m := range r.v.Markets {
		last, err := st.Latest(ctx, m, market.I1m, 1)
		if err != nil || len(last) == 0 {
			continue
		}
		cs, err := st.Unrolled(ctx, m, last[0].OpenTime-r.c.cfg.MaxRepair.Milliseconds())
		if err == nil {
			var n int
			if n, err = r.c.writer.Reroll(ctx, cs); n > 0 {
				r.log.Warn("stale rollups rebuilt", "market", m, "bins", n)
			}
		}
		if err != nil && ctx.Err() == nil {
			r.log.Error("checking rollups failed", "market", m, "err", err)
		}
	}
}

// Missing returns the runs [from, to) of minutes in [from, to) that have no
// reconciled 1m candle in rows, leaving out minutes for which skip is true.
func Missing(rows []market.Candle, from, to int64, skip func(t int64) bool) [][2]int64 {
	have := make(map[int64]bool, len(rows))
	for _, c := range rows {
		if c.State == market.Reconciled {
			have[c.OpenTime] = true
		}
	}
	var runs [][2]int64
	for t := from; t < to; t += market.I1m.Millis() {
		if have[t] || (skip != nil && skip(t)) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1][1] == t {
			runs[n-1][1] = t + market.I1m.Millis()
		} else {
			runs = append(runs, [2]int64{t, t + market.I1m.Millis()})
		}
	}
	return runs
}

// absent says whether minute t lies in a gap whose repair finished without
// the venue having it (partial or unfillable): it is not fetched again.
func absent(gaps []store.Gap) func(t int64) bool {
	return func(t int64) bool {
		for _, g := range gaps {
			if (g.Status == store.GapPartial || g.Status == store.GapUnfillable) && t >= g.From && t < g.To {
				return true
			}
		}
		return false
	}
}

func (r *repairer) repair(ctx context.Context, req repairReq) error {
	if r.owns != nil {
		own, promoted := r.owns.has(req.m)
		if !own {
			return nil // its owner's to repair
		}
		if promoted {
			if err := r.promote(ctx, req.m); err != nil {
				return err
			}
			r.owns.settle(req.m)
		}
	}
	if err := r.c.writer.FlushDue(ctx); err != nil {
		return fmt.Errorf("flush before repair: %w", err)
	}
	from := r.mark[req.m]
	if from == 0 {
		from = req.first
	}
	st := r.c.cfg.Store
	gaps, err := st.Gaps(ctx, req.m, math.MinInt64, req.upTo) // one read for expire and absent
	if err != nil {
		return err
	}
	oldest := req.upTo - r.c.cfg.MaxRepair.Milliseconds()
	if err := r.expire(ctx, gaps, oldest); err != nil {
		return err
	}
	from = max(from, oldest)
	if from >= req.upTo || from == 0 {
		return nil
	}
	rows, err := st.Candles(ctx, req.m, market.I1m, from, req.upTo)
	if err != nil {
		return err
	}
	mark := req.upTo
	var done []store.Gap
	for _, run := range Missing(rows, from, req.upTo, absent(gaps)) {
		g, err := r.fill(ctx, req.m, run[0], run[1], req.reason)
		if err != nil {
			return err
		}
		if g.Status == store.GapFound {
			mark = min(mark, run[0]) // REST failed: try again
		}
		done = append(done, g)
	}
	r.mark[req.m] = mark
	return r.settle(ctx, req.m, from, req.upTo, done)
}
