package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// SimConfig is the settings of `candlewire sim`.
type SimConfig struct {
	Listen  string
	Sim     sim.Config
	Symbols []market.Market // instruments to create and list; their venues are known
	Faults  []sim.Scheduled
}

// Sim serves every venue's simulator front-end on cfg.Listen, prints to w
// where (and how to reach the admin routes), and injects cfg.Faults on
// the simulated clock, until ctx ends.
func Sim(ctx context.Context, cfg SimConfig, w io.Writer) error {
	srv, err := api.Listen(cfg.Listen, "", "", slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	s := sim.New(cfg.Sim)
	addr := srv.Addr().String()
	eps := SimEndpoints(s, addr)
	for _, m := range cfg.Symbols {
		if d, err := registry.Lookup(m.Venue); err == nil {
			s.Instrument(m.Venue, m.Symbol, d.Sim.Spec(m.Symbol))
		}
	}
	srv.Handler = s
	printSim(w, eps, addr, cfg.Symbols)
	defer goUntil(ctx, func(ctx context.Context) { s.RunSchedule(ctx, cfg.Faults) })()
	return srv.Run(ctx)
}

// printSim says where each venue's front-end answers, with an example
// client per symbol and the admin routes.
func printSim(w io.Writer, eps Endpoints, addr string, ms []market.Market) {
	fmt.Fprintf(w, "candlewire simulator on %s\n", addr)
	for _, v := range eps.Names() {
		ep := eps[v]
		fmt.Fprintf(w, "  %-8s websocket %s\n", v, ep.WSURL)
		fmt.Fprintf(w, "  %-8s rest      %s\n", v, ep.RESTURL)
	}
	for _, m := range ms {
		if d, err := registry.Lookup(m.Venue); err == nil {
			fmt.Fprintf(w, "  example  %s\n", d.Example(eps[m.Venue], m.Symbol))
		}
		fmt.Fprintf(w, "  trades   http://%s/admin/trades?venue=%s&symbol=%s\n", addr, m.Venue, m.Symbol)
	}
	fmt.Fprintf(w, "  faults   http://%s/admin/fault?venue=VENUE&kind=KIND[&for=30s]  (kinds: %s)\n", addr, strings.Join(sim.FaultKinds, ", "))
	fmt.Fprintf(w, "  clock    http://%s/admin/clock\n", addr)
}
