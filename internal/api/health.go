package api

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// Health thresholds, beyond the venues' own silence timeouts and graces.
const (
	// writesFailingAfter is how long store writes must have failed, with
	// none stored, before /healthz says so (a sample taken between a write
	// and its accounting looks like a failure for a moment).
	writesFailingAfter = 5 * time.Second
	// storeDownAfter is how long failing writes make /healthz answer 503.
	storeDownAfter = 30 * time.Second
	// quietDownAfter is how long nothing may be stored, while no venue has
	// a connection, before /healthz answers 503.
	quietDownAfter = 2 * time.Minute
	// finalSlack is how much later than a venue's grace a final may come
	// before it counts as late.
	finalSlack = 30 * time.Second
)

// Finals reads the newest final of a market (store.Candles does).
type Finals interface {
	LastReconciled(ctx context.Context, m market.Market, iv market.Interval) (int64, bool, error)
}

// VenueWatch is what the health needs to know of a venue.
type VenueWatch struct {
	Silence time.Duration // no connection for longer than this is a fault
	Grace   time.Duration // how late a final may be
}

// reading is what the health reads from the collector at one moment.
type reading struct {
	connected map[string]bool // venue: it has an open connection
	attempts  uint64          // store writes tried so far
	stored    float64         // candle versions stored so far
}

// Health tracks what /healthz reports: whether store writes succeed,
// whether each venue has a connection, and how old each market's newest
// final is. sample keeps it current; run samples every second.
type Health struct {
	finals  Finals
	markets []market.Market
	venues  map[string]VenueWatch
	probe   func() reading
	links   Links // nil, or why a venue has no connection
	now     func() time.Time

	mu        sync.Mutex
	start     time.Time
	last      reading
	heard     map[string]time.Time        // venue: last seen connected (the start before)
	storedAt  time.Time                   // last sample that saw something stored (the start before)
	failSince time.Time                   // first sample of the current failing writes; zero while they succeed
	newest    map[market.Market]int64     // open time of the newest final seen
	finalAt   map[market.Market]time.Time // when it was first seen (wall clock)
}

func newHealth(f Finals, ms []market.Market, venues map[string]VenueWatch, p func() reading, now func() time.Time) *Health {
	h := &Health{finals: f, markets: ms, venues: venues, probe: p, now: now, heard: map[string]time.Time{},
		newest: map[market.Market]int64{}, finalAt: map[market.Market]time.Time{}}
	h.start, h.storedAt, h.last = now(), now(), p()
	for v := range venues {
		h.heard[v] = h.start
	}
	return h
}

// Probe is what the health reads of the collector (metrics.Metrics is
// one): whether a venue has a connection, how many store writes were tried,
// and how many candle versions the store took.
type Probe interface {
	ConnectedTo(venue string) bool
	StoreWriteAttempts() uint64
	CandlesWritten() float64
}

// NewHealth is the health of markets, collected from venues, read from p,
// the venues' links (nil: none) and the store's newest finals.
func NewHealth(f Finals, ms []market.Market, venues map[string]VenueWatch, p Probe, links Links) *Health {
	h := newHealth(f, ms, venues, probeOf(p, slices.Sorted(maps.Keys(venues))), time.Now)
	h.links = links
	return h
}

// probeOf reads a probe of venues from p.
func probeOf(p Probe, venues []string) func() reading {
	return func() reading {
		out := reading{connected: map[string]bool{}, attempts: p.StoreWriteAttempts(), stored: p.CandlesWritten()}
		for _, v := range venues {
			out.connected[v] = p.ConnectedTo(v)
		}
		return out
	}
}

// sample reads the probe and moves the clocks it drives (one sample at a
// time, so that each sees the previous one's figures).
func (h *Health) sample() {
	newest := h.readFinals()
	h.mu.Lock()
	defer h.mu.Unlock()
	p, now := h.probe(), h.now()
	for v, up := range p.connected {
		if up {
			h.heard[v] = now
		}
	}
	switch {
	case p.stored > h.last.stored:
		h.storedAt, h.failSince = now, time.Time{}
	case p.attempts > h.last.attempts && h.failSince.IsZero():
		h.failSince = now
	}
	h.last = p
	for m, last := range newest {
		if last > h.newest[m] {
			h.newest[m], h.finalAt[m] = last, now
		}
	}
}

// readFinals reads each market's newest final (without h.mu: the store
// may be slow). Its age is judged by when it arrived, not by its open
// time: exchange time is not the local clock (a time-compressed simulator
// runs ahead of it, a replay of old recordings behind it).
func (h *Health) readFinals() map[market.Market]int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := map[market.Market]int64{}
	for _, m := range h.markets {
		if last, ok, err := h.finals.LastReconciled(ctx, m, market.I1m); err == nil && ok {
			out[m] = last
		}
	}
	return out
}

// Run samples every second until ctx ends.
func (h *Health) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			h.sample()
		}
	}
}

// healthMarket is one market in the /healthz answer.
type healthMarket struct {
	Market         string `json:"market"`
	LastReconciled string `json:"last_reconciled,omitempty"`
}

// healthReport is the /healthz answer: ok, degraded (200) or down (503).
type healthReport struct {
	Status  string         `json:"status"`
	Reasons []string       `json:"reasons"`
	Venues  []venueLink    `json:"venues"`
	Markets []healthMarket `json:"markets"`
	down    bool
}

func (r *healthReport) add(down bool, format string, args ...any) {
	r.Reasons = append(r.Reasons, fmt.Sprintf(format, args...))
	r.down = r.down || down
}

// code is the HTTP status of the report.
func (r *healthReport) code() int {
	if r.down {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// check samples and judges.
func (h *Health) check(ctx context.Context) healthReport {
	h.sample()
	now := h.now()
	r := healthReport{Reasons: []string{}, Markets: []healthMarket{}, Venues: venueLinks(h.links, h.markets)}
	h.mu.Lock()
	h.checkWrites(&r, now)
	h.checkVenues(&r, now)
	h.mu.Unlock()
	h.checkFinals(ctx, &r, now)
	r.Status = "ok"
	switch {
	case r.down:
		r.Status = "down"
	case len(r.Reasons) > 0:
		r.Status = "degraded"
	}
	return r
}

// checkWrites reports store writes that keep failing with nothing stored,
// timed from the first failure (a quiet spell before it is no failure).
func (h *Health) checkWrites(r *healthReport, now time.Time) {
	failing := now.Sub(h.failSince)
	if h.failSince.IsZero() || failing < writesFailingAfter {
		return
	}
	r.add(failing >= storeDownAfter, "store writes failing for %s, none stored (since %s; the log says why)",
		failing.Round(time.Second), h.failSince.UTC().Format(time.RFC3339))
}

// checkVenues reports venues without a connection for longer than their
// silence timeout; with none connected and nothing stored for a while,
// nothing is being collected.
func (h *Health) checkVenues(r *healthReport, now time.Time) {
	down := 0
	for _, v := range slices.Sorted(maps.Keys(h.venues)) {
		if gone := now.Sub(h.heard[v]); gone > h.venues[v].Silence {
			down++
			r.add(false, "venue %s: no connection for %s (silence timeout %s)%s", v, gone.Round(time.Second), h.venues[v].Silence, h.why(v, now))
		}
	}
	if quiet := now.Sub(h.storedAt); down > 0 && down == len(h.venues) && quiet >= quietDownAfter {
		r.add(true, "nothing stored for %s and no venue connected", quiet.Round(time.Second))
	}
}

// why says why venue has no connection and when it tries again, as its
// link tells ("" without one).
func (h *Health) why(venue string, now time.Time) string {
	if h.links == nil {
		return ""
	}
	l, ok := h.links.Link(venue)
	if !ok || l.Connected || l.Reason == "" {
		return ""
	}
	if l.Retry.IsZero() {
		return ": " + l.Reason + "; trying now"
	}
	return fmt.Sprintf(": %s; next attempt in %s", l.Reason, max(l.Retry.Sub(now), 0).Round(time.Second))
}

// checkFinals lists each market's newest final and reports those that
// have not changed for longer than expected: a final is due every minute,
// plus the venue's grace and finalSlack (counted from the start for the
// first one: a restart is given as long for it).
func (h *Health) checkFinals(ctx context.Context, r *healthReport, now time.Time) {
	for _, m := range h.markets {
		last, ok, err := h.finals.LastReconciled(ctx, m, market.I1m)
		if err != nil {
			r.add(true, "store unavailable: %v", err)
			return
		}
		e := healthMarket{Market: m.String()}
		if ok {
			e.LastReconciled = time.UnixMilli(last).UTC().Format(time.RFC3339)
		}
		h.mu.Lock()
		since := h.start
		if at, seen := h.finalAt[m]; seen {
			since = at
		}
		h.mu.Unlock()
		due := market.I1m.Duration() + h.venues[m.Venue].Grace + finalSlack
		if late := now.Sub(since); late > due {
			r.add(false, "market %s: no new final for %s (newest %s; one is due every minute, %s late at most)",
				m, late.Round(time.Second), cmp.Or(e.LastReconciled, "none"), due-market.I1m.Duration())
		}
		r.Markets = append(r.Markets, e)
	}
}
