package collector_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

// TestRestartRefills stops the collector for a few simulated minutes and
// starts a new one on the same database: the minutes missed while it was
// down must be found, recorded as a restart gap and filled.
func TestRestartRefills(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			parallel(t)
			s := sim.New(sim.Config{Seed: 7, Speed: 60})
			registry.MountSims(s)
			srv := httptest.NewServer(s)
			defer srv.Close()
			path := filepath.Join(t.TempDir(), "c.db")
			start := market.I1m.Truncate(s.Clock.Now())
			runFor(t, path, sc, srv.URL, 2500*time.Millisecond)
			time.Sleep(3 * time.Second) // three simulated minutes with nobody collecting
			runFor(t, path, sc, srv.URL, 3*time.Second)

			st, err := sqlite.Open(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			end := market.I1m.Truncate(s.Clock.Now() - 2*60_000)
			want := expected(t, srv.URL, sc.market, start, end)
			got, _ := st.Candles(context.Background(), sc.market, market.I1m, start, end)
			if len(got) != len(want) {
				gaps, _ := st.Gaps(context.Background(), sc.market, 0, 1<<62)
				t.Logf("gaps %+v", gaps)
				t.Fatalf("stored %d minutes, want %d", len(got), len(want))
			}
			for _, g := range got {
				if g.State != market.Reconciled || brief(g) != want[g.OpenTime] {
					t.Errorf("minute %d: %s %s, want %s", g.OpenTime, g.State, brief(g), want[g.OpenTime])
				}
			}
			gaps, _ := st.Gaps(context.Background(), sc.market, 0, 1<<62)
			restart := 0
			for _, g := range gaps {
				if g.Reason == "restart" && g.Status == store.GapFilled {
					restart += g.Filled
				}
			}
			if restart < 2 && !sc.snapshotRefills {
				t.Fatalf("restart gaps filled %d minutes, want the ≥2 missed while down: %+v", restart, gaps)
			}
		})
	}
}

func runFor(t *testing.T, path string, sc scenario, srv string, d time.Duration) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v := sc.venue(srv, nil)
	v.Markets = []market.Market{sc.market}
	c, err := collector.New(collector.Config{Store: st, Venues: []collector.Venue{v}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	c.Run(ctx)
}
