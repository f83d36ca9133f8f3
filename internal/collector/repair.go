package collector

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

type repairReq struct {
	m      market.Market
	reason string
	upTo   int64 // exclusive: minutes before this are due and must be reconciled
	first  int64 // first minute this process saw
}

// repairer fills missing minutes of one venue. Its watermark per market is
// where the next repair starts: every minute before it is reconciled, or was
// reported by the venue to have no data. It starts at the minute after the
// newest reconciled one stored before this process collected anything (a
// partial sent on subscribe must not hide the minutes missed while down),
// and stays put where REST failed, so those minutes are tried again.
type repairer struct {
	c    *Collector
	log  *slog.Logger
	v    Venue
	mark map[market.Market]int64 // 0: not known yet, start at the first minute seen
}

func newRepairer(ctx context.Context, c *Collector, v Venue) (*repairer, error) {
	r := &repairer{c: c, v: v, mark: map[market.Market]int64{}, log: c.cfg.Logger.With("component", "repair", "venue", v.Name)}
	for _, m := range v.Markets {
		last, ok, err := c.cfg.Store.LastReconciled(ctx, m, market.I1m)
		if err != nil {
			return nil, fmt.Errorf("read where %s stopped: %w", m, err)
		}
		if ok {
			r.mark[m] = last + market.I1m.Millis()
		}
	}
	return r, nil
}

func (r *repairer) run(ctx context.Context, reqs <-chan repairReq) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-reqs:
			if err := r.repair(ctx, req); err != nil && ctx.Err() == nil {
				r.log.Warn("gap repair failed; will retry", "market", req.m, "err", err)
			}
		}
	}
}

// Missing returns the runs [from, to) of minutes in [from, to) that have no
// reconciled 1m candle in rows.
func Missing(rows []market.Candle, from, to int64) [][2]int64 {
	have := make(map[int64]bool, len(rows))
	for _, c := range rows {
		if c.State == market.Reconciled {
			have[c.OpenTime] = true
		}
	}
	var runs [][2]int64
	for t := from; t < to; t += market.I1m.Millis() {
		if have[t] {
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

func (r *repairer) repair(ctx context.Context, req repairReq) error {
	if err := r.c.writer.Flush(ctx); err != nil {
		return fmt.Errorf("flush before repair: %w", err)
	}
	from := r.mark[req.m]
	if from == 0 {
		from = req.first
	}
	from = max(from, req.upTo-r.c.cfg.MaxRepair.Milliseconds())
	if from >= req.upTo || from == 0 {
		return nil
	}
	rows, err := r.c.cfg.Store.Candles(ctx, req.m, market.I1m, from, req.upTo)
	if err != nil {
		return err
	}
	missing := Missing(rows, from, req.upTo)
	if err := r.settle(ctx, req.m, from, req.upTo, missing); err != nil {
		return err
	}
	mark := req.upTo
	for _, run := range missing {
		retry, err := r.fill(ctx, req.m, run[0], run[1], req.reason)
		if err != nil {
			return err
		}
		if retry {
			mark = min(mark, run[0])
		}
	}
	r.mark[req.m] = mark
	return nil
}

// settle marks ledger entries in [from, to) filled when an earlier repair
// could not fill them but none of their minutes is missing any more (the
// live feed's final arrived after all).
func (r *repairer) settle(ctx context.Context, m market.Market, from, to int64, missing [][2]int64) error {
	st := r.c.cfg.Store
	open, err := st.Gaps(ctx, m, from, to)
	if err != nil {
		return err
	}
	for _, g := range open {
		if g.Status == store.GapFilled || g.From < from || g.To > to || overlaps(g, missing) {
			continue
		}
		g.Status, g.Resolved = store.GapFilled, time.Now().UnixMilli()
		g.Detail = strings.TrimSpace("reconciled later by the live feed; " + g.Detail)
		if err := st.UpdateGap(ctx, g); err != nil {
			return err
		}
		r.c.met.GapsFilled.WithLabelValues(m.String(), string(g.Status)).Inc()
	}
	return nil
}

func overlaps(g store.Gap, runs [][2]int64) bool {
	for _, run := range runs {
		if run[0] < g.To && run[1] > g.From {
			return true
		}
	}
	return false
}

// record returns the ledger entry for [from, to): the one an earlier,
// unfinished repair of the same range left, or a new one.
func (r *repairer) record(ctx context.Context, m market.Market, from, to int64, reason string) (store.Gap, error) {
	st := r.c.cfg.Store
	old, err := st.Gaps(ctx, m, from, to)
	if err != nil {
		return store.Gap{}, err
	}
	for _, g := range old {
		if g.From == from && g.To == to && g.Status != store.GapFilled {
			return g, nil // a retry: keep when it was first found
		}
	}
	g, err := st.AddGap(ctx, store.Gap{Market: m, From: from, To: to, Reason: reason, Status: store.GapFound, Found: time.Now().UnixMilli()})
	if err != nil {
		return g, err
	}
	r.c.met.GapsFound.WithLabelValues(m.String()).Inc()
	r.log.Info("gap found", "market", m, "from", time.UnixMilli(from).UTC(), "minutes", g.Minutes(), "reason", reason)
	return g, nil
}

// fill records one gap, fetches it over REST and stores what the venue has.
// retry is true when REST failed, so the minutes should be tried again.
func (r *repairer) fill(ctx context.Context, m market.Market, from, to int64, reason string) (retry bool, err error) {
	st, met := r.c.cfg.Store, r.c.met
	g, err := r.record(ctx, m, from, to, reason)
	if err != nil {
		return false, err
	}
	cs, ferr := r.v.REST.Candles(ctx, m, from, to, nil)
	var final []market.Candle
	for _, c := range cs {
		if c.State == market.Reconciled && c.OpenTime >= from && c.OpenTime < to {
			final = append(final, c)
		}
	}
	if len(final) > 0 {
		if _, err := r.c.writer.WriteNow(ctx, final); err != nil {
			return false, fmt.Errorf("store repaired candles: %w", err)
		}
	}
	g.Filled, g.Resolved = len(final), time.Now().UnixMilli()
	switch {
	case g.Filled == g.Minutes():
		g.Status = store.GapFilled
	case g.Filled > 0:
		g.Status = store.GapPartial
	default:
		g.Status = store.GapUnfillable
	}
	g.Detail = ""
	if ferr != nil {
		g.Detail = ferr.Error()
	}
	met.GapsFilled.WithLabelValues(m.String(), string(g.Status)).Inc()
	met.MinutesFilled.WithLabelValues(m.String()).Add(float64(g.Filled))
	r.log.Info("gap repaired", "market", m, "status", g.Status, "filled", g.Filled, "minutes", g.Minutes(), "err", ferr)
	return ferr != nil && g.Filled < g.Minutes(), st.UpdateGap(ctx, g)
}
