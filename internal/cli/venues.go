package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/candlewire/candlewire/internal/binance"
	"github.com/candlewire/candlewire/internal/bitmex"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/binancesim"
	"github.com/candlewire/candlewire/internal/sim/bitmexsim"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Supported venues.
var venueNames = []string{"binance", "bitmex"}

// endpoints holds each venue's URLs.
type endpoints map[string]config.Venue

// groupByVenue splits markets by venue, keeping order.
func groupByVenue(ms []market.Market) (names []string, by map[string][]market.Market) {
	by = map[string][]market.Market{}
	for _, m := range ms {
		if _, ok := by[m.Venue]; !ok {
			names = append(names, m.Venue)
		}
		by[m.Venue] = append(by[m.Venue], m)
	}
	return names, by
}

// newHTTPClient returns a REST client with its own connection pool; the
// command closes its idle connections when it ends.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// buildVenues makes the collector venues for markets.
func buildVenues(ms []market.Market, eps endpoints, client *http.Client, log *slog.Logger, met *metrics.Metrics) ([]collector.Venue, error) {
	names, by := groupByVenue(ms)
	var out []collector.Venue
	for _, name := range names {
		rest, err := buildFetcher(name, eps, client, log, met)
		if err != nil {
			return nil, err
		}
		ep := eps[name]
		switch name {
		case "binance":
			feed := binance.NewFeed(binance.Config{WSURL: ep.WSURL, Logger: log, Metrics: met})
			out = append(out, collector.Venue{Name: name, Feed: feed, REST: rest, Markets: by[name], FinalGrace: 10 * time.Second})
		case "bitmex":
			budget := bitmex.DefaultConnectsPerHour
			if ep.ConnectBudget > 0 {
				budget = ep.ConnectBudget
			}
			feed, err := bitmex.NewFeed(bitmex.Config{WSURL: ep.WSURL, Budget: upstream.NewBudget(budget, time.Hour, nil), Logger: log, Metrics: met})
			if err != nil {
				return nil, err
			}
			// Bins are published about 15 s after the minute; allow 45 s.
			out = append(out, collector.Venue{Name: name, Feed: feed, REST: rest, Markets: by[name], FinalGrace: 45 * time.Second})
		}
	}
	return out, nil
}

// buildFetcher makes a venue's REST fetcher.
func buildFetcher(name string, eps endpoints, client *http.Client, log *slog.Logger, met *metrics.Metrics) (collector.Fetcher, error) {
	ep := eps[name]
	switch name {
	case "binance":
		base := ep.RESTURL
		if base == "" {
			base = "https://api.binance.com"
		}
		h := &upstream.HTTP{Venue: name, Client: client, Limiter: rate.NewLimiter(binance.DefaultWeightPerSecond, 200), Logger: log, Metrics: met}
		return &binance.REST{Base: strings.TrimRight(base, "/"), HTTP: h}, nil
	case "bitmex":
		if ep.RESTURL == "" {
			return nil, bitmex.ErrNoEndpoint
		}
		h := &upstream.HTTP{Venue: name, Client: client, Limiter: rate.NewLimiter(bitmex.RequestsPerSecond, 5), Logger: log, Metrics: met}
		return &bitmex.REST{Base: strings.TrimRight(ep.RESTURL, "/"), HTTP: h}, nil
	}
	return nil, fmt.Errorf("%w: unknown venue %q (supported: %s)", errUsage, name, strings.Join(venueNames, ", "))
}

// inProcessSim starts a simulator on a free loopback port and returns the
// endpoints that point every venue at it, and a function that stops it.
func inProcessSim(cfg sim.Config, log *slog.Logger) (endpoints, func(), error) {
	s := sim.New(cfg)
	eps := mountAll(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("start simulator: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulator stopped", "err", err)
		}
	}()
	stop := func() { srv.Close(); <-done }
	base := ln.Addr().String()
	log.Info("simulator started", "addr", base, "seed", cfg.Seed, "speed", s.Clock.Speed())
	return eps.withHost(base), stop, nil
}

// mountAll mounts every venue front-end on s and returns their endpoints
// relative to host "HOST".
func mountAll(s *sim.Server) endpoints {
	binancesim.Mount(s, "/binance")
	bitmexsim.Mount(s, "/bitmex")
	return endpoints{
		"binance": {WSURL: "ws://HOST/binance", RESTURL: "http://HOST/binance"},
		"bitmex":  {WSURL: "ws://HOST/bitmex/realtime", RESTURL: "http://HOST/bitmex"},
	}
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
func (e endpoints) sortedVenues() []string {
	var out []string
	for k := range e {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
