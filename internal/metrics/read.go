package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Typed reads of the collector's own metrics, for /v1/status and /healthz:
// each reads its Go field, never a metric by name. The reads of gaps and
// reconnects create no series.

// GapsFoundOf is how many gaps were found in market since the start.
func (m *Metrics) GapsFoundOf(market string) float64 { return Sum(m.GapsFound, "market", market) }

// GapsFilledOf is how many gaps of market were repaired whole.
func (m *Metrics) GapsFilledOf(market string) float64 {
	return Sum(m.GapsFilled, "market", market, "status", "filled")
}

// ReconnectsOf is how many sessions of venue ended and were redialled,
// whatever the reason.
func (m *Metrics) ReconnectsOf(venue string) float64 { return Sum(m.Reconnects, "venue", venue) }

// ConnectedTo says whether venue has an open upstream connection.
func (m *Metrics) ConnectedTo(venue string) bool {
	return value(m.Connected.WithLabelValues(venue)) > 0
}

// BudgetLeft is how many connects venue's budget allows now (0 for a
// venue not watched).
func (m *Metrics) BudgetLeft(venue string) float64 {
	m.budgets.mu.Lock()
	defer m.budgets.mu.Unlock()
	if b, ok := m.budgets.budgets[venue]; ok {
		return float64(b.Left())
	}
	return 0
}

// StoreWriteAttempts is how many store transactions were tried.
func (m *Metrics) StoreWriteAttempts() uint64 {
	var d dto.Metric
	m.StoreWrite.Write(&d) //nolint:errcheck // client_golang's own metrics always write
	return d.GetHistogram().GetSampleCount()
}

// CandlesWritten is how many candle versions the store took, whatever
// their outcome.
func (m *Metrics) CandlesWritten() float64 {
	total := 0.0
	for _, outcome := range []string{"changed", "unchanged", "stale", "invalid"} {
		total += value(m.CandleWrites.WithLabelValues(outcome))
	}
	return total
}

// value is a counter's or a gauge's value.
func value(c prometheus.Metric) float64 {
	var d dto.Metric
	c.Write(&d) //nolint:errcheck // client_golang's own metrics always write
	return d.GetCounter().GetValue() + d.GetGauge().GetValue()
}

// Sum adds the values of the counters and gauges c collects (a vector of
// them) that have every label name, value pair given. It creates no series.
func Sum(c prometheus.Collector, labels ...string) float64 {
	ch := make(chan prometheus.Metric)
	go func() { c.Collect(ch); close(ch) }()
	total := 0.0
	for m := range ch {
		var d dto.Metric
		m.Write(&d) //nolint:errcheck // client_golang's own metrics always write
		if hasLabels(&d, labels) {
			total += d.GetCounter().GetValue() + d.GetGauge().GetValue()
		}
	}
	return total
}

func hasLabels(d *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range d.GetLabel() {
			found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
		}
		if !found {
			return false
		}
	}
	return true
}
