package metrics

import (
	"slices"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// Label values every collecting node exports from the start, so that a
// dashboard or an alert sees a 0 rather than no series (rate() and
// increase() need the 0 to see the first event).
var (
	connectResults = []string{"ok", "error", "refused"}
	gapStatuses    = []string{"filled", "partial", "unfillable"}
	engineKinds    = []string{"duplicate", "late", "seqgap"}
	writeOutcomes  = []string{"changed", "unchanged", "stale", "invalid"}
)

// ReconnectReasons are the reasons upstream gives a session's end.
var ReconnectReasons = []string{"planned", "rate-limited", "silent", "oversized-frame", "closed-by-server", "read-error"}

// Declare creates the series of ms and their venues at 0: gaps found and
// resolved, minutes filled, corrections, engine anomalies (and the time
// of the newest final, which starts at now), connects, reconnects,
// frames, the open connections, candle writes and the hub's drops
// (retention declares its own intervals).
func (m *Metrics) Declare(ms []market.Market) {
	var venues []string
	for _, mk := range ms {
		name := mk.String()
		m.GapsFound.WithLabelValues(name)
		m.LastFinal.WithLabelValues(name).Set(float64(time.Now().UnixMilli()) / 1e3)
		m.MinutesFilled.WithLabelValues(name)
		m.Corrections.WithLabelValues(name)
		for _, st := range gapStatuses {
			m.GapsFilled.WithLabelValues(name, st)
		}
		for _, k := range engineKinds {
			m.EngineCounters.WithLabelValues(name, k)
		}
		if !slices.Contains(venues, mk.Venue) {
			venues = append(venues, mk.Venue)
		}
	}
	for _, v := range venues {
		for _, r := range connectResults {
			m.Connects.WithLabelValues(v, r)
		}
		m.Connected.WithLabelValues(v)
		for _, r := range ReconnectReasons {
			m.Reconnects.WithLabelValues(v, r)
		}
		m.Messages.WithLabelValues(v)
	}
	for _, o := range writeOutcomes {
		m.CandleWrites.WithLabelValues(o)
	}
	m.Drops.WithLabelValues("hub", "slow-subscriber")
}
