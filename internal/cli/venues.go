package cli

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
)

// driver looks up a venue; an unknown one is a usage error.
func driver(name string) (exchange.Driver, error) {
	d, err := registry.Lookup(name)
	if err != nil {
		return d, fmt.Errorf("%w: %v", errUsage, err)
	}
	return d, nil
}

// restDeps are what a venue's REST client is built with.
type restDeps struct {
	client *http.Client
	log    *slog.Logger
	met    *metrics.Metrics
	// retries of each request (upstream.HTTP.Retries): 0 the default,
	// negative none (reading the instrument lists at start).
	retries int
}

// rest builds venue d's REST client at ep, under the venue's rate limit.
func (r restDeps) rest(d exchange.Driver, ep config.Venue) (exchange.REST, error) {
	h := &upstream.HTTP{Venue: d.Name, Client: r.client, Retries: r.retries, Limiter: d.Limiter(), Logger: r.log, Metrics: r.met}
	return d.Client(ep, h)
}

// link is the connection settings of venue d's feed at ep.
func link(d exchange.Driver, ep config.Venue, log *slog.Logger, met *metrics.Metrics, tap upstream.Tap) upstream.Config {
	return upstream.Config{Budget: d.Budget(ep), Backoff: upstream.Backoff{Max: ep.BackoffMax}, Logger: log, Metrics: met, Tap: tap}
}

// endpoints holds each venue's URLs.
type endpoints map[string]config.Venue

// newHTTPClient returns a REST client with its own connection pool; the
// command closes its idle connections when it ends.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// buildVenues makes the collector venues for markets, one per venue. Their
// connect budgets count the attempts kept in conns, and record theirs there.
func buildVenues(ctx context.Context, ms []market.Market, eps endpoints, conns upstream.ConnectLog, client *http.Client,
	log *slog.Logger, met *metrics.Metrics) ([]collector.Venue, error) {
	var order []string
	by := map[string][]market.Market{}
	for _, m := range ms {
		if _, ok := by[m.Venue]; !ok {
			order = append(order, m.Venue)
		}
		by[m.Venue] = append(by[m.Venue], m)
	}
	var out []collector.Venue
	for _, name := range order {
		d, err := driver(name)
		if err != nil {
			return nil, err
		}
		ep := eps[name]
		rest, err := restDeps{client: client, log: log.With("component", "rest"), met: met}.rest(d, ep)
		if err != nil {
			return nil, err
		}
		flog := log.With("component", "feed")
		l := link(d, ep, flog, met, nil)
		if err := l.Budget.Persist(ctx, conns, name, flog); err != nil {
			return nil, err
		}
		feed, err := d.Feed(ep, l)
		if err != nil {
			return nil, err
		}
		out = append(out, collector.Venue{Name: name, Feed: feed, REST: rest, Markets: by[name], FinalGrace: d.Grace, Bins: d.Bins, TradesOnly: d.TradesOnly})
	}
	return out, nil
}

// buildFetcher makes a venue's REST fetcher.
func buildFetcher(name string, eps endpoints, client *http.Client, log *slog.Logger, met *metrics.Metrics) (collector.Fetcher, error) {
	d, err := driver(name)
	if err != nil {
		return nil, err
	}
	return restDeps{client: client, log: log, met: met}.rest(d, eps[name])
}

// check refuses settings for venues candlewire does not know.
func (e endpoints) check() error {
	for name := range e {
		if _, err := driver(name); err != nil {
			return err
		}
	}
	return nil
}

// inProcessSim makes a simulator listening on a free loopback port and
// returns the endpoints that point every venue at it (keeping e's other
// settings); its Run serves it.
func (e endpoints) inProcessSim(cfg sim.Config, log *slog.Logger) (endpoints, *api.Server, error) {
	s := sim.New(cfg)
	eps := mountAll(s)
	srv, err := api.Listen("127.0.0.1:0", "", "", log)
	if err != nil {
		return nil, nil, fmt.Errorf("start simulator: %w", err)
	}
	srv.Handler = s
	base := srv.Addr().String()
	log.Info("simulator started", "addr", base, "seed", cfg.Seed, "speed", s.Clock.Speed())
	out := eps.withHost(base)
	for name, v := range e {
		v.WSURL, v.RESTURL = out[name].WSURL, out[name].RESTURL
		out[name] = v
	}
	return out, srv, nil
}

// background serves srv until the returned stop is called.
func background(srv *api.Server) (stop func()) {
	return goUntil(context.Background(), func(ctx context.Context) { srv.Run(ctx) }) //nolint:errcheck // a command's own simulator
}

// mountAll mounts every venue front-end on s, each at /<venue>, and
// returns their endpoints relative to host "HOST".
func mountAll(s *sim.Server) endpoints {
	eps := endpoints{}
	registry.MountSims(s)
	for _, d := range registry.All() {
		eps[d.Name] = d.SimEndpoint("HOST")
	}
	return eps
}

func (e endpoints) withHost(host string) endpoints {
	out := endpoints{}
	for k, v := range e {
		v.WSURL = strings.Replace(v.WSURL, "HOST", host, 1)
		v.RESTURL = strings.Replace(v.RESTURL, "HOST", host, 1)
		out[k] = v
	}
	return out
}

// sortedVenues lists endpoint names in order, for printing.
func (e endpoints) sortedVenues() []string { return slices.Sorted(maps.Keys(e)) }
