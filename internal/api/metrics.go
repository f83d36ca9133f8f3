package api

import "github.com/prometheus/client_golang/prometheus"

// apiMetrics count what each transport serves. A nil *apiMetrics counts
// nothing.
type apiMetrics struct {
	conns    *prometheus.GaugeVec   // transport: open streaming connections
	messages *prometheus.CounterVec // transport: candle changes delivered
	bytes    *prometheus.CounterVec // transport: body bytes written
	ends     *prometheus.CounterVec // transport, reason: connections ended by the server
	refused  *prometheus.CounterVec // transport, reason: connections refused
}

func newMetrics(reg prometheus.Registerer) *apiMetrics {
	if reg == nil {
		return nil
	}
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "candlewire", Subsystem: "api", Name: name, Help: help}, labels)
	}
	m := &apiMetrics{
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "candlewire", Subsystem: "api", Name: "connections",
			Help: "Open streaming connections (WebSocket, SSE, long polls in flight)."}, []string{"transport"}),
		messages: cv("messages_total", "Candle changes delivered to clients.", "transport"),
		bytes:    cv("bytes_total", "Bytes of candle messages written to clients.", "transport"),
		ends:     cv("disconnects_total", "Connections the server ended, by reason (slow, going-away, error).", "transport", "reason"),
		refused:  cv("rejected_total", "Connections or requests refused, by reason.", "transport", "reason"),
	}
	reg.MustRegister(m.conns, m.messages, m.bytes, m.ends, m.refused)
	for _, tr := range []string{"ws", "sse", "longpoll"} { // at 0 from the start, for rate() and alerts
		m.conns.WithLabelValues(tr)
		m.messages.WithLabelValues(tr)
		m.bytes.WithLabelValues(tr)
		m.ends.WithLabelValues(tr, "slow")
	}
	return m
}

func (m *apiMetrics) open(transport string, d float64) {
	if m != nil {
		m.conns.WithLabelValues(transport).Add(d)
	}
}

func (m *apiMetrics) sent(transport string, n, bytes int) {
	if m != nil && n > 0 {
		m.messages.WithLabelValues(transport).Add(float64(n))
		m.bytes.WithLabelValues(transport).Add(float64(bytes))
	}
}

func (m *apiMetrics) ended(transport, reason string) {
	if m != nil {
		m.ends.WithLabelValues(transport, reason).Inc()
	}
}

func (m *apiMetrics) rejected(transport, reason string) {
	if m != nil {
		m.refused.WithLabelValues(transport, reason).Inc()
	}
}
