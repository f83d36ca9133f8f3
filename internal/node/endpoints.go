package node

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/sim"
)

// Endpoints holds each venue's settings (URLs, budgets, timeouts); a
// venue without an entry uses its driver's defaults.
type Endpoints map[string]config.Venue

// Check refuses settings for venues candlewire does not know
// (registry.ErrUnknown).
func (e Endpoints) Check() error {
	for name := range e {
		if _, err := registry.Lookup(name); err != nil {
			return err
		}
	}
	return nil
}

// Override returns e with the WebSocket and REST URLs of ws and rest
// (venue → URL) set over it; e itself is not changed.
func (e Endpoints) Override(ws, rest map[string]string) Endpoints {
	out := maps.Clone(e)
	if out == nil {
		out = Endpoints{}
	}
	for name, s := range ws {
		v := out[name]
		v.WSURL = s
		out[name] = v
	}
	for name, s := range rest {
		v := out[name]
		v.RESTURL = s
		out[name] = v
	}
	return out
}

// SimEndpoints mounts every venue's simulator front-end on s, each at
// /<venue>, and returns their endpoints at host (HOST:PORT).
func SimEndpoints(s *sim.Server, host string) Endpoints {
	registry.MountSims(s)
	out := Endpoints{}
	for _, d := range registry.All() {
		out[d.Name] = d.SimEndpoint(host)
	}
	return out
}

// Names lists the venue names of e in order, for printing.
func (e Endpoints) Names() []string { return slices.Sorted(maps.Keys(e)) }

// StartSim serves a simulator on a free loopback port and returns e with
// every venue's URLs pointing at it (e's other settings kept); stop ends
// it and waits.
func (e Endpoints) StartSim(cfg sim.Config, log *slog.Logger) (_ Endpoints, stop func(), _ error) {
	s := sim.New(cfg)
	srv, err := api.Listen("127.0.0.1:0", "", "", log)
	if err != nil {
		return nil, nil, fmt.Errorf("start simulator: %w", err)
	}
	srv.Handler = s
	base := srv.Addr().String()
	log.Info("simulator started", "addr", base, "seed", cfg.Seed, "speed", s.Clock.Speed())
	out := SimEndpoints(s, base)
	for name, v := range e {
		v.WSURL, v.RESTURL = out[name].WSURL, out[name].RESTURL
		out[name] = v
	}
	return out, goUntil(context.Background(), func(ctx context.Context) { srv.Run(ctx) }), nil //nolint:errcheck // a command's own simulator
}

// goUntil runs f in a goroutine with a context that ends with ctx or
// when the returned function is called, which waits for f to return.
func goUntil(ctx context.Context, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f(ctx) }()
	return func() { cancel(); <-done }
}
