package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sim"
)

// pgRestartSpeed: at 20x the 30 s outage is ten simulated minutes.
const pgRestartSpeed = 20

// TestPostgresRestartUnderRun stops the PostgreSQL server under a running
// `candlewire run` for 30 s and starts it again. Meanwhile /healthz
// answers 503 and says why; afterwards every minute of the session is
// stored once, final, and equal to the candle built from the simulator's
// trade log: the writer kept what it could not store and stored it when
// the server came back.
func TestPostgresRestartUnderRun(t *testing.T) {
	if testing.Short() {
		t.Skip("stops a server for 30 s")
	}
	own := pgtest.StartOwn(t)
	venues := drivers(func(d exchange.Driver) bool { return !d.Refills })
	s := sim.New(sim.Config{Seed: 2027, Speed: pgRestartSpeed})
	registry.MountSims(s)
	srv := httptest.NewServer(s)
	defer srv.Close()
	p := start(t, runArgs(t, t.TempDir(), own.DSN, srv.URL, venues)...)
	defer keepLog(t, "run", p)
	waitSubscribed(t, p, venues)
	begin := market.I1m.Truncate(s.Clock.Now()) + time.Minute.Milliseconds()
	waitSim(s, begin+3*time.Minute.Milliseconds())
	own.Stop()
	deadline := time.Now().Add(30 * time.Second)
	if code, reasons := health(t, p, deadline); code != http.StatusServiceUnavailable || !strings.Contains(reasons, "store") {
		t.Errorf("/healthz with the store down: %d %s, want 503 naming the store", code, reasons)
	}
	time.Sleep(time.Until(deadline))
	own.Start()
	end := market.I1m.Truncate(s.Clock.Now()) + 2*time.Minute.Milliseconds()
	waitSim(s, end+3*time.Minute.Milliseconds()) // the last finals are due
	if code, reasons := health(t, p, time.Now().Add(10*time.Second)); code != http.StatusOK {
		t.Errorf("/healthz after the store came back: %d %s", code, reasons)
	}
	p.stop(t)
	st, err := node.OpenStore(context.Background(), own.DSN, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, d := range venues {
		t.Run(d.Name, func(t *testing.T) { checkCandles(t, st, srv.URL, d, begin, end) })
	}
}

// health polls /healthz until it answers 503, or 200 with status ok, or
// until the deadline, and returns the last answer's code and reasons.
func health(t *testing.T, p *proc, deadline time.Time) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for {
		code, reasons, status := 0, "", ""
		if resp, err := client.Get("http://" + p.addr + "/healthz"); err == nil {
			var h struct {
				Status  string   `json:"status"`
				Reasons []string `json:"reasons"`
			}
			json.NewDecoder(resp.Body).Decode(&h) //nolint:errcheck // an empty answer is checked below
			resp.Body.Close()
			code, reasons, status = resp.StatusCode, strings.Join(h.Reasons, "; "), h.Status
		}
		if code == http.StatusServiceUnavailable || status == "ok" || time.Now().After(deadline) {
			return code, reasons
		}
		time.Sleep(200 * time.Millisecond)
	}
}
