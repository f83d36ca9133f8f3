package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	alertRules     = "../../deploy/prometheus/candlewire-alerts.yml"
	alertRuleTests = "../../deploy/prometheus/candlewire-alerts.test.yml"
	dashboard      = "../../deploy/grafana/candlewire.json"
)

// TestAlertRulesCheck: promtool (Debian's prometheus) finds the alert
// rules valid, and their unit tests (series in, alerts out) pass.
func TestAlertRulesCheck(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	need(t, err == nil, "promtool is not installed (apt-get install prometheus)")
	for _, args := range [][]string{{"check", "rules", filepath.Base(alertRules)}, {"test", "rules", filepath.Base(alertRuleTests)}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = filepath.Dir(alertRules)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricName is a metric name in a PromQL expression.
var metricName = regexp.MustCompile(`\b(?:candlewire|process|go)_[a-z0-9_]+\b`)

// TestMonitoringNamesExist: every metric the Grafana dashboard and the
// alert rules name is in the /metrics of a running `candlewire run`
// (with retention on, and after one malformed frame and a few finals at 60x,
// so that the series that need those exist), and each market's counters are
// there at 0 from the first scrape.
func TestMonitoringNamesExist(t *testing.T) {
	t.Parallel()
	names := namedMetrics(t)
	markets, dir := []string{"binance:BTCUSDT", "okx:BTC-USDT"}, t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("retention: {intervals: {1m: 90d}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "run", "--sim", "--sim-speed", "60", "--markets", strings.Join(markets, ","), "--db", filepath.Join(dir, "m.db"),
		"--config", cfg, "--listen", "127.0.0.1:0")
	defer p.stop(t)
	first := p.scrape(t)
	for _, m := range markets {
		for _, series := range []string{`candlewire_gaps_found_total{market="` + m + `"}`,
			`candlewire_gaps_resolved_total{market="` + m + `",status="unfillable"}`, `candlewire_corrections_total{market="` + m + `"}`} {
			if v, ok := first[series]; !ok || v != 0 {
				t.Errorf("the first scrape has no %s 0", series)
			}
		}
	}
	sim := regexp.MustCompile(`msg="simulator started" addr=(\S+)`).FindStringSubmatch(p.logText())
	if sim == nil {
		t.Fatalf("no simulator address in the log:\n%s", p.logText())
	}
	resp, err := http.Post("http://"+sim[1]+"/admin/fault?venue=binance&kind=malformed", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if missing := missingNames(t, p, names); len(missing) > 0 {
		t.Errorf("named but not in /metrics: %s", strings.Join(missing, ", "))
	}
}

// namedMetrics returns the metric names the dashboard and the rules use,
// each with the file that names it.
func namedMetrics(t *testing.T) map[string]string {
	names := map[string]string{}
	for _, e := range dashboardExprs(t) {
		for _, n := range metricName.FindAllString(e, -1) {
			names[n] = dashboard
		}
	}
	rules, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range metricName.FindAllString(string(rules), -1) {
		names[n] = alertRules
	}
	if len(names) < 10 {
		t.Fatalf("only %d metric names found in the dashboard and the rules: %v", len(names), names)
	}
	return names
}

// missingNames returns, sorted, the names that p's /metrics still lacks
// after 30 s.
func missingNames(t *testing.T, p *proc, names map[string]string) []string {
	var missing []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		got := p.scrape(t)
		missing = missing[:0]
		for n := range names {
			if !got.has(n) {
				missing = append(missing, n+" (in "+filepath.Base(names[n])+")")
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			slices.Sort(missing)
			return missing
		}
	}
}

// dashboardExprs returns the PromQL of every panel and variable of the
// dashboard, checking the JSON's shape on the way.
func dashboardExprs(t *testing.T) []string {
	b, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: no title, uid or panels", dashboard)
	}
	var exprs []string
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok {
			exprs = append(exprs, q)
		}
	}
	return exprs
}
