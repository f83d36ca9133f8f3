package metrics

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/candlewire/candlewire/internal/market"
)

// TestTypedReads: the typed reads /v1/status and /healthz use give the
// counters' values, summed over the labels not asked for, and reading a
// market's gaps creates no series.
func TestTypedReads(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	if m.GapsFoundOf("binance:BTCUSDT") != 0 || m.GapsFilledOf("binance:BTCUSDT") != 0 {
		t.Fatal("gaps counted before any")
	}
	if n := testutil.CollectAndCount(m.GapsFound) + testutil.CollectAndCount(m.GapsFilled); n != 0 {
		t.Fatalf("reading created %d series", n)
	}
	m.GapsFound.WithLabelValues("binance:BTCUSDT").Add(3)
	m.GapsFilled.WithLabelValues("binance:BTCUSDT", "filled").Add(2)
	m.GapsFilled.WithLabelValues("binance:BTCUSDT", "partial").Inc()
	m.Reconnects.WithLabelValues("binance", "silent").Add(2)
	m.Reconnects.WithLabelValues("binance", "read-error").Inc()
	m.Reconnects.WithLabelValues("okx", "silent").Inc()
	m.Connected.WithLabelValues("okx").Set(2)
	m.StoreWrite.Observe(0.01)
	m.CandleWrites.WithLabelValues("changed").Add(4)
	m.CandleWrites.WithLabelValues("stale").Inc()
	m.WatchBudget("binance", budget{17, 300})
	got := []float64{m.GapsFoundOf("binance:BTCUSDT"), m.GapsFilledOf("binance:BTCUSDT"), m.ReconnectsOf("binance"),
		m.BudgetLeft("binance"), m.BudgetLeft("kraken"), float64(m.StoreWriteAttempts()), m.CandlesWritten()}
	want := []float64{3, 2, 3, 17, 0, 1, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("reads %v, want %v", got, want)
		}
	}
	if !m.ConnectedTo("okx") || m.ConnectedTo("binance") {
		t.Error("ConnectedTo: okx has two connections, binance none")
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP candlewire_upstream_connect_budget_left Upstream connects the venue's rolling connect budget allows right now.
# TYPE candlewire_upstream_connect_budget_left gauge
candlewire_upstream_connect_budget_left{venue="binance"} 17
# HELP candlewire_upstream_connect_budget_limit Upstream connects the venue's rolling connect budget allows per window.
# TYPE candlewire_upstream_connect_budget_limit gauge
candlewire_upstream_connect_budget_limit{venue="binance"} 300
`), "candlewire_upstream_connect_budget_left", "candlewire_upstream_connect_budget_limit"); err != nil {
		t.Error(err)
	}
}

type budget struct{ left, limit int }

func (b budget) Left() int  { return b.left }
func (b budget) Limit() int { return b.limit }

// TestDeclare: every market's and venue's counters exist at 0 once
// declared, and the newest final's time starts at the declaration.
func TestDeclare(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	ms := []market.Market{{Venue: "binance", Symbol: "BTCUSDT"}, {Venue: "binance", Symbol: "ETHUSDT"}, {Venue: "okx", Symbol: "BTC-USDT"}}
	before := float64(time.Now().Unix())
	m.Declare(ms)
	tests := []struct {
		metric string
		want   int // series
	}{
		{"candlewire_gaps_found_total", 3},
		{"candlewire_gaps_resolved_total", 9},
		{"candlewire_gap_minutes_filled_total", 3},
		{"candlewire_corrections_total", 3},
		{"candlewire_engine_events_total", 9},
		{"candlewire_upstream_connects_total", 6},
		{"candlewire_upstream_connected", 2},
		{"candlewire_upstream_reconnects_total", 2 * len(ReconnectReasons)},
		{"candlewire_upstream_messages_total", 2},
		{"candlewire_candle_writes_total", 4},
		{"candlewire_drops_total", 1},
		{"candlewire_last_final_stored_timestamp_seconds", 3},
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		i := slices.IndexFunc(fams, func(f *dto.MetricFamily) bool { return f.GetName() == tt.metric })
		if i < 0 {
			t.Errorf("%s: absent", tt.metric)
			continue
		}
		if n := len(fams[i].GetMetric()); n != tt.want {
			t.Errorf("%s: %d series, want %d", tt.metric, n, tt.want)
		}
		for _, s := range fams[i].GetMetric() {
			v := s.GetCounter().GetValue() + s.GetGauge().GetValue()
			if tt.metric == "candlewire_last_final_stored_timestamp_seconds" {
				if v < before {
					t.Errorf("%s %v = %v, want the declaration's time", tt.metric, s.GetLabel(), v)
				}
			} else if v != 0 {
				t.Errorf("%s %v = %v, want 0", tt.metric, s.GetLabel(), v)
			}
		}
	}
}
