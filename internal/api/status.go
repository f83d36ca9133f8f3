package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// marketStatus is one market's data quality, for the chart page's strip.
type marketStatus struct {
	Market      string  `json:"market"`
	LastFinal   int64   `json:"last_final,omitempty"`    // open time of the newest reconciled 1m bin, UTC ms
	LastFinalAt int64   `json:"last_final_at,omitempty"` // when it was stored (wall clock), UTC ms
	GapsFound   float64 `json:"gaps_found"`              // since this process started
	GapsFilled  float64 `json:"gaps_filled"`
	Reconnects  float64 `json:"reconnects"`  // of the market's venue
	BudgetLeft  float64 `json:"budget_left"` // connects the venue's budget allows now
	// Tick and Lot are the venue's price and size steps, and PricePlaces
	// the decimals of its prices (the chart's precision); absent when the
	// venue's list could not be read.
	Tick        string `json:"tick,omitempty"`
	Lot         string `json:"lot,omitempty"`
	PricePlaces *int   `json:"price_places,omitempty"`
	// Owner and Standby name the collectors of the market in a cluster.
	Owner   string `json:"owner,omitempty"`
	Standby string `json:"standby,omitempty"`
}

// Cluster is what a node knows of its cluster, for /v1/status.
type Cluster interface {
	// Owner names who owns and who stands by for m.
	Owner(m market.Market) (owner, standby string)
	// Node describes this node (its role, name, members…) as JSON.
	Node() any
}

// Counts are the collector's counts /v1/status shows (metrics.Metrics
// has them).
type Counts interface {
	GapsFoundOf(market string) float64
	GapsFilledOf(market string) float64
	ReconnectsOf(venue string) float64
	BudgetLeft(venue string) float64
}

// Links tells the state of a venue's feed (upstream.Links does).
type Links interface {
	Link(venue string) (upstream.Link, bool)
}

// venueLink is a venue's connection in /v1/status and /healthz.
type venueLink struct {
	Venue     string `json:"venue"`
	Connected bool   `json:"connected"`
	Since     int64  `json:"since,omitempty"`    // connected, or without a connection, since (UTC ms)
	Reason    string `json:"reason,omitempty"`   // why there is none
	RetryAt   int64  `json:"retry_at,omitempty"` // the next connect attempt (UTC ms)
}

// venueLinks reads the links of the venues of ms, in order; none
// without links (a gateway collects nothing) or before a feed started.
func venueLinks(links Links, ms []market.Market) []venueLink {
	out := []venueLink{}
	if links == nil {
		return out
	}
	for _, v := range venuesOf(ms) {
		l, ok := links.Link(v)
		if !ok {
			continue
		}
		e := venueLink{Venue: v, Connected: l.Connected, Since: l.Since.UnixMilli(), Reason: l.Reason}
		if !l.Retry.IsZero() {
			e.RetryAt = l.Retry.UnixMilli()
		}
		out = append(out, e)
	}
	return out
}

// venuesOf lists the venues of ms, in the order they first appear.
func venuesOf(ms []market.Market) []string {
	var out []string
	for _, m := range ms {
		if !slices.Contains(out, m.Venue) {
			out = append(out, m.Venue)
		}
	}
	return out
}

// Status serves GET /v1/status: the markets and their data quality, the
// venues' connections, and in a cluster (Cluster not nil) this node and
// each market's collectors.
type Status struct {
	Counts      Counts
	Links       Links // nil on a node that collects nothing
	Store       store.Candles
	Markets     []market.Market
	Instruments map[market.Market]instrument.Instrument
	Cluster     Cluster
}

// Handler serves GET /v1/status.
func (s Status) Handler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			Now       int64             `json:"now"`
			Intervals []market.Interval `json:"intervals"`
			Node      any               `json:"node,omitempty"`
			Venues    []venueLink       `json:"venues"`
			Markets   []marketStatus    `json:"markets"`
		}{Now: time.Now().UnixMilli(), Intervals: market.Intervals, Venues: venueLinks(s.Links, s.Markets)}
		if s.Cluster != nil {
			out.Node = s.Cluster.Node()
		}
		for _, m := range s.Markets {
			out.Markets = append(out.Markets, s.market(r, m))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(out) //nolint:errcheck // the client went away
	}
}

// market is the status of m.
func (s Status) market(r *http.Request, m market.Market) marketStatus {
	c, st := s.Counts, s.Store
	out := marketStatus{Market: m.String(),
		GapsFound: c.GapsFoundOf(m.String()), GapsFilled: c.GapsFilledOf(m.String()),
		Reconnects: c.ReconnectsOf(m.Venue), BudgetLeft: c.BudgetLeft(m.Venue)}
	if s.Cluster != nil {
		out.Owner, out.Standby = s.Cluster.Owner(m)
	}
	if in, ok := s.Instruments[m]; ok {
		p, _ := in.Scale()
		out.Tick, out.Lot, out.PricePlaces = in.Tick.String(), in.Lot.String(), &p
	}
	if last, ok, err := st.LastReconciled(r.Context(), m, market.I1m); err == nil && ok {
		out.LastFinal = last
		if cs, err := st.Candles(r.Context(), m, market.I1m, last, last+1); err == nil && len(cs) == 1 {
			out.LastFinalAt = cs[0].Updated
		}
	}
	return out
}

// Handler serves GET /healthz: ok or degraded (200), or down (503), with
// the reasons and each market's newest final.
func (h *Health) Handler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rep := h.check(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(rep.code())
		json.NewEncoder(w).Encode(rep) //nolint:errcheck // the client went away
	}
}
