package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// The gap ledger: every gap is recorded `found` once and moves to exactly
// one final status (filled, partial or unfillable), counted once in
// candlewire_gaps_resolved_total. A repair whose REST request failed for a
// reason that may pass (transient) leaves its gap `found`, and it is
// retried.

// record returns the ledger entry for [from, to): the one an earlier,
// unfinished repair of the same range left, or a new one.
func (r *repairer) record(ctx context.Context, m market.Market, from, to int64, reason string) (store.Gap, error) {
	st := r.c.cfg.Store
	old, err := st.Gaps(ctx, m, from, to)
	if err != nil {
		return store.Gap{}, err
	}
	for _, g := range old {
		if g.From == from && g.To == to && g.Status == store.GapFound {
			return g, nil // a retry: keep when it was first found and why
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

// fill records one gap, fetches it over REST and stores what the venue
// has. The gap stays `found` when REST failed before it was filled.
func (r *repairer) fill(ctx context.Context, m market.Market, from, to int64, reason string) (store.Gap, error) {
	g, err := r.record(ctx, m, from, to, reason)
	if err != nil {
		return g, err
	}
	cs, ferr := r.v.REST.Candles(ctx, m, from, to, nil)
	var final []market.Candle
	for _, c := range cs {
		if c.State == market.Reconciled && c.OpenTime >= from && c.OpenTime < to {
			final = append(final, c)
		}
	}
	var res store.Result
	if len(final) > 0 {
		if res, err = r.c.writer.WriteNow(ctx, final); err != nil {
			return g, fmt.Errorf("store repaired candles: %w", err)
		}
	}
	g.Filled, g.Detail = len(final)-len(res.Invalid), "" // the venue's own invalid rows fill nothing
	if ferr != nil {
		g.Detail = ferr.Error()
	} else if len(res.Invalid) > 0 {
		g.Detail = fmt.Sprintf("%d of the venue's candles invalid: %v", len(res.Invalid), res.Invalid[0])
	}
	r.c.met.MinutesFilled.WithLabelValues(m.String()).Add(float64(g.Filled))
	if ferr != nil && g.Filled < g.Minutes() && transient(ferr) {
		r.log.Info("gap repair held; will retry", "market", m, "gap", g.ID, "filled", g.Filled, "minutes", g.Minutes(), "err", ferr)
		return g, r.c.cfg.Store.UpdateGap(ctx, g)
	}
	return r.resolve(ctx, g, g.Filled, "")
}

// transient says whether a REST failure may pass: the venue overloaded or
// limiting us (5xx, 429, 418, after the client's own retries), the
// network, or our own shutdown. Anything else (another 4xx, the venue
// refusing the request in its answer, an answer that cannot be read) is
// the venue's last word on those minutes.
func transient(err error) bool {
	var se *upstream.StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests || se.Status == http.StatusTeapot
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// resolve gives a found gap its final status from how many of its minutes
// are stored reconciled (have), and counts it. g.Filled stays what this
// gap's own repair stored.
func (r *repairer) resolve(ctx context.Context, g store.Gap, have int, why string) (store.Gap, error) {
	switch {
	case have >= g.Minutes():
		g.Status = store.GapFilled
	case have > 0:
		g.Status = store.GapPartial
	default:
		g.Status = store.GapUnfillable
	}
	g.Resolved = time.Now().UnixMilli()
	if why != "" {
		g.Detail = why
	}
	if err := r.c.cfg.Store.UpdateGap(ctx, g); err != nil {
		return g, err
	}
	r.c.met.GapsFilled.WithLabelValues(g.Market.String(), string(g.Status)).Inc()
	r.log.Info("gap repaired", "market", g.Market, "gap", g.ID, "status", g.Status, "filled", g.Filled,
		"minutes", g.Minutes(), "detail", g.Detail)
	return g, nil
}

// settle finishes ledger entries in [from, to) still `found` that another
// repair or the live feed covered: each of their minutes is reconciled, or
// lies in a gap the venue had no data for. Gaps this repair left `found`
// stay so.
func (r *repairer) settle(ctx context.Context, m market.Market, from, to int64, done []store.Gap) error {
	st := r.c.cfg.Store
	gaps, err := st.Gaps(ctx, m, from, to)
	if err != nil {
		return err
	}
	for _, g := range gaps {
		if g.Status != store.GapFound || held(g, done) {
			continue
		}
		rows, err := st.Candles(ctx, m, market.I1m, g.From, g.To)
		if err != nil {
			return err
		}
		if len(Missing(rows, g.From, g.To, absent(gaps))) > 0 {
			continue // still to repair
		}
		if _, err := r.resolve(ctx, g, market.Finals(rows), coveredBy(g, done)); err != nil {
			return err
		}
	}
	return nil
}

// held says whether g is a gap this repair tried and left found.
func held(g store.Gap, done []store.Gap) bool {
	for _, d := range done {
		if d.ID == g.ID {
			return true
		}
	}
	return false
}

// coveredBy says what covered g: an overlapping gap of this repair, or the
// live feed.
func coveredBy(g store.Gap, done []store.Gap) string {
	for _, d := range done {
		if d.From < g.To && d.To > g.From {
			return fmt.Sprintf("covered by gap %d (%s)", d.ID, d.Reason)
		}
	}
	return "reconciled later by the live feed"
}

// expire gives up on the ledger entries of gaps still `found` that lie
// wholly before the repair's look-back: they are unfillable.
func (r *repairer) expire(ctx context.Context, gaps []store.Gap, oldest int64) error {
	for _, g := range gaps {
		if g.Status == store.GapFound && g.To <= oldest {
			why := fmt.Sprintf("older than the repair look-back (%s)", r.c.cfg.MaxRepair)
			if _, err := r.resolve(ctx, g, g.Filled, why); err != nil {
				return err
			}
		}
	}
	return nil
}
