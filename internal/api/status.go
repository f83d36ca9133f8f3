package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
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

// StatusHandler serves GET /v1/status: the markets and their data quality,
// and in a cluster (cl not nil) this node and each market's collectors.
func StatusHandler(c Counts, st store.Candles, ms []market.Market, infos map[market.Market]instrument.Instrument, cl Cluster) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			Now       int64             `json:"now"`
			Intervals []market.Interval `json:"intervals"`
			Node      any               `json:"node,omitempty"`
			Markets   []marketStatus    `json:"markets"`
		}{Now: time.Now().UnixMilli(), Intervals: market.Intervals}
		if cl != nil {
			out.Node = cl.Node()
		}
		for _, m := range ms {
			s := marketStatus{Market: m.String(),
				GapsFound: c.GapsFoundOf(m.String()), GapsFilled: c.GapsFilledOf(m.String()),
				Reconnects: c.ReconnectsOf(m.Venue), BudgetLeft: c.BudgetLeft(m.Venue)}
			if cl != nil {
				s.Owner, s.Standby = cl.Owner(m)
			}
			if in, ok := infos[m]; ok {
				p, _ := in.Scale()
				s.Tick, s.Lot, s.PricePlaces = in.Tick.String(), in.Lot.String(), &p
			}
			if last, ok, err := st.LastReconciled(r.Context(), m, market.I1m); err == nil && ok {
				s.LastFinal = last
				if cs, err := st.Candles(r.Context(), m, market.I1m, last, last+1); err == nil && len(cs) == 1 {
					s.LastFinalAt = cs[0].Updated
				}
			}
			out.Markets = append(out.Markets, s)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(out) //nolint:errcheck // the client went away
	}
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
