package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// TestHeldRepairSurvivesKill9: a venue withholds a minute's final
// (skip-final), so the minute is overdue; its repair is held because REST
// answers 503; the process is killed with SIGKILL while it is held, and
// started again once REST is healthy. Later minutes were reconciled live
// before the kill, so the withheld minute lies below the newest reconciled
// one. It must still be repaired: afterwards every minute and every rollup
// equals the simulator's trade log, and no ledger gap is left `found`.
func TestHeldRepairSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end session")
	}
	// The venues whose finals come on time from their bins (BitMEX's
	// stored values are also wrong until repaired: its open is the
	// previous close, and trades arrive late).
	venues := drivers(func(d exchange.Driver) bool { return !d.TradesOnly && !d.Refills && !d.LateFinals })
	s := sim.New(sim.Config{Seed: 99, Speed: e2eSpeed})
	registry.MountSims(s)
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "held.db")
	args := runArgs(t, dir, db, srv.URL, venues)
	p := start(t, args...)
	defer keepLog(t, "first", p)
	waitSubscribed(t, p, venues)
	begin := s.Clock.Now()/60_000*60_000 + 60_000
	at := func(d time.Duration) { waitSim(s, begin+d.Milliseconds()) }
	at(3 * time.Minute)
	for _, d := range venues {
		v := d.Name
		for _, f := range []fault{{kind: sim.FaultSkipFinal}, {sim.FaultREST5xx, 24 * time.Hour}} {
			if err := s.Faults.Inject(v, f.kind, f.dur); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range venues { // each withheld final's repair is held by REST
		waitLog(t, p, regexp.MustCompile(`msg="gap found".*market=`+regexp.QuoteMeta(d.Demo().String())+` .*reason=overdue`))
	}
	// Later finals come in: the held minute is below the newest reconciled one.
	waitSim(s, s.Clock.Now()+3*time.Minute.Milliseconds())
	p.kill(t)
	for _, d := range venues { // REST is healthy again
		if err := s.Faults.Inject(d.Name, sim.FaultREST5xx, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	p = start(t, args...)
	defer keepLog(t, "second", p)
	end := begin + (24 * time.Minute).Milliseconds()
	waitSim(s, end+3*time.Minute.Milliseconds())
	for _, d := range venues { // a loaded machine may take a while to finish the repairs
		waitRepaired(t, db, d.Demo(), begin, end, time.Minute)
	}
	p.stop(t)

	st, err := sqlite.OpenShared(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, d := range venues {
		m := d.Demo()
		t.Run(d.Name, func(t *testing.T) {
			checkCandles(t, st, srv.URL, d, begin, end)
			if bad := storetest.WrongRollups(t, st, m); len(bad) > 0 {
				t.Errorf("%d rollups differ from their constituents: %v", len(bad), bad[:min(len(bad), 5)])
			}
			gaps, err := st.Gaps(context.Background(), m, 0, 1<<62)
			if err != nil {
				t.Fatal(err)
			}
			overdue := false
			for _, g := range gaps {
				t.Logf("gap %s..%s %s %s filled=%d %s", fmtMin(g.From), fmtMin(g.To), g.Reason, g.Status, g.Filled, g.Detail)
				if g.Status == store.GapFound {
					t.Errorf("gap %s..%s (%s) left found", fmtMin(g.From), fmtMin(g.To), g.Reason)
				}
				overdue = overdue || (g.Reason == "overdue" && g.Status == store.GapFilled)
			}
			if !overdue {
				t.Error("no filled overdue gap: the withheld final's repair was not recorded")
			}
		})
	}
}

// waitLog waits up to 30 s for a line of the process's log.
func waitLog(t *testing.T, p *proc, line *regexp.Regexp) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !line.MatchString(p.logText()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no line %q within 30 s:\n%s", line, p.logText())
		}
	}
}

// waitRepaired waits, d at most, until every minute of m in [begin, end) is
// stored reconciled and no gap of m is left found, reading the database
// beside the running process.
func waitRepaired(t *testing.T, db string, m market.Market, begin, end int64, d time.Duration) {
	t.Helper()
	st, err := sqlite.OpenShared(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		cs, err1 := st.Candles(context.Background(), m, market.I1m, begin, end)
		gaps, err2 := st.Gaps(context.Background(), m, 0, 1<<62)
		if err1 == nil && err2 == nil && len(collector.Missing(cs, begin, end, nil)) == 0 &&
			!slices.ContainsFunc(gaps, func(g store.Gap) bool { return g.Status == store.GapFound }) {
			return
		}
	}
}
