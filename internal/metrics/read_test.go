package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
	m.WatchBudget("binance", func() int { return 17 })
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
`), "candlewire_upstream_connect_budget_left"); err != nil {
		t.Error(err)
	}
}
