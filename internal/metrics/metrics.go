package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the collector's counters and gauges. Labels: venue, and for
// some a reason or market.
type Metrics struct {
	Connects       *prometheus.CounterVec // venue, result (ok|error|refused)
	Reconnects     *prometheus.CounterVec // venue, reason
	Connected      *prometheus.GaugeVec   // venue
	Messages       *prometheus.CounterVec // venue
	DecodeErrors   *prometheus.CounterVec // venue, reason
	SlowFrames     *prometheus.CounterVec // venue, kind: frames the decoder's fast path left to the full one
	BinLag         *prometheus.GaugeVec   // market: exchange time of the latest event minus its bin end, seconds
	GapsFound      *prometheus.CounterVec // market
	LastFinal      *prometheus.GaugeVec   // market: when its newest final 1m bin was stored (or the start), unix seconds
	GapsFilled     *prometheus.CounterVec // market, status
	MinutesFilled  *prometheus.CounterVec // market
	Corrections    *prometheus.CounterVec // market: venue finals that differed from trade-built candles
	CandleWrites   *prometheus.CounterVec // outcome (changed|unchanged|stale|invalid)
	QueueDepth     prometheus.Gauge       // candle versions waiting to be stored
	Drops          *prometheus.CounterVec // where, reason
	RESTRequests   *prometheus.CounterVec // venue, status
	EngineCounters *prometheus.CounterVec // market, kind (duplicate|late|seqgap)
	StoreWrite     prometheus.Histogram   // seconds per store transaction
	StoreErrors    prometheus.Counter     // store transactions of candles that failed
	Retained       *prometheus.CounterVec // interval: candles deleted by retention
	budgets        *budgetCollector       // venue: connects the budget allows now
}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "candlewire", Name: name, Help: help}, labels)
	}
	m := &Metrics{
		Connects:     cv("upstream_connects_total", "Upstream WebSocket connect attempts.", "venue", "result"),
		Reconnects:   cv("upstream_reconnects_total", "Upstream sessions that ended and were redialled, by reason.", "venue", "reason"),
		Connected:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "candlewire", Name: "upstream_connected", Help: "Open upstream connections."}, []string{"venue"}),
		Messages:     cv("upstream_messages_total", "Upstream frames received.", "venue"),
		DecodeErrors: cv("upstream_decode_errors_total", "Upstream frames skipped because they could not be decoded.", "venue", "reason"),
		SlowFrames: cv("upstream_fast_path_misses_total",
			"Trade and candle frames the venue decoder's fast path did not take (the venue changed the frame's form; they cost CPU, not data).", "venue", "kind"),
		BinLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "candlewire", Name: "bin_lag_seconds",
			Help: "Exchange time between a 1m bin's end and the arrival of its final value."}, []string{"market"}),
		LastFinal: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "candlewire", Name: "last_final_stored_timestamp_seconds",
			Help: "When the market's newest final 1m bin was stored by this node (its start, before the first), unix seconds."}, []string{"market"}),
		GapsFound:      cv("gaps_found_total", "Runs of missing 1m bins found.", "market"),
		GapsFilled:     cv("gaps_resolved_total", "Gap repairs finished, by status.", "market", "status"),
		MinutesFilled:  cv("gap_minutes_filled_total", "1m bins stored by gap repair.", "market"),
		Corrections:    cv("corrections_total", "Venue finals that differed from the trade-built candle.", "market"),
		CandleWrites:   cv("candle_writes_total", "Candle versions written, by outcome.", "outcome"),
		QueueDepth:     prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "candlewire", Name: "store_queue_depth", Help: "Candle versions waiting to be stored."}),
		Drops:          cv("drops_total", "Items dropped, by where and why.", "where", "reason"),
		RESTRequests:   cv("rest_requests_total", "Venue REST requests, by HTTP status.", "venue", "status"),
		EngineCounters: cv("engine_events_total", "Trade-level anomalies seen by the candle engine.", "market", "kind"),
		StoreWrite: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "candlewire", Name: "store_write_seconds",
			Help: "Time to store one batch of candle versions (one transaction).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		StoreErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "candlewire", Name: "store_write_errors_total",
			Help: "Store transactions of candle versions that failed (they are retried; the log says why)."}),
		Retained: cv("retention_deleted_total", "Candles deleted by retention (retention.intervals), by interval.", "interval"),
		budgets: &budgetCollector{desc: prometheus.NewDesc("candlewire_upstream_connect_budget_left",
			"Upstream connects the venue's rolling connect budget allows right now.", []string{"venue"}, nil),
			limitDesc: prometheus.NewDesc("candlewire_upstream_connect_budget_limit",
				"Upstream connects the venue's rolling connect budget allows per window.", []string{"venue"}, nil),
			budgets: map[string]Budget{}},
	}
	reg.MustRegister(m.Connects, m.Reconnects, m.Connected, m.Messages, m.DecodeErrors, m.SlowFrames, m.BinLag, m.LastFinal, m.GapsFound,
		m.GapsFilled, m.MinutesFilled, m.Corrections, m.CandleWrites, m.QueueDepth, m.Drops, m.RESTRequests, m.EngineCounters, m.StoreWrite, m.StoreErrors, m.Retained, m.budgets)
	return m
}

// Budget is a venue's connect budget (upstream.Budget is one).
type Budget interface {
	Left() int  // connects allowed right now
	Limit() int // connects allowed per window
}

// WatchBudget reports the venue's connect budget, read at each scrape. A
// later call for the same venue replaces the earlier one.
func (m *Metrics) WatchBudget(venue string, b Budget) {
	m.budgets.mu.Lock()
	defer m.budgets.mu.Unlock()
	m.budgets.budgets[venue] = b
}

// budgetCollector reads each venue's connect budget when scraped, so the
// figure is current even while nothing connects.
type budgetCollector struct {
	desc, limitDesc *prometheus.Desc
	mu              sync.Mutex
	budgets         map[string]Budget
}

func (b *budgetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc; ch <- b.limitDesc }

func (b *budgetCollector) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for venue, bu := range b.budgets {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(bu.Left()), venue)
		ch <- prometheus.MustNewConstMetric(b.limitDesc, prometheus.GaugeValue, float64(bu.Limit()), venue)
	}
}

// Discard returns metrics registered nowhere, for callers that do not export them.
func Discard() *Metrics { return New(prometheus.NewRegistry()) }
