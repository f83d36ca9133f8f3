package exchangetest

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/sim"
)

// Sim runs a simulator with cfg and d's front-end, over a real socket
// until the test ends, and returns it with d's endpoints on it and its
// base URL (for the admin API).
func Sim(t testing.TB, cfg sim.Config, d exchange.Driver) (*sim.Server, config.Venue, string) {
	t.Helper()
	s := sim.New(cfg)
	d.MountSim(s)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, d.SimEndpoint(strings.TrimPrefix(srv.URL, "http://")), srv.URL
}
