package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/binance"
	"github.com/candlewire/candlewire/internal/exchange/binance/binancesim"
	"github.com/candlewire/candlewire/internal/exchange/bitmex"
	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexsim"
	"github.com/candlewire/candlewire/internal/exchange/bybit"
	"github.com/candlewire/candlewire/internal/exchange/bybit/bybitsim"
	"github.com/candlewire/candlewire/internal/exchange/coinbase"
	"github.com/candlewire/candlewire/internal/exchange/coinbase/coinbasesim"
	"github.com/candlewire/candlewire/internal/exchange/kraken"
	"github.com/candlewire/candlewire/internal/exchange/kraken/krakensim"
	"github.com/candlewire/candlewire/internal/exchange/okx"
	"github.com/candlewire/candlewire/internal/exchange/okx/okxsim"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
)

// deps are what a venue's feed and fetcher are built with.
type deps struct {
	ep     config.Venue
	client *http.Client
	log    *slog.Logger
	met    *metrics.Metrics
	budget *upstream.Budget // the venue's connect budget
	tap    upstream.Tap     // nil, or records every frame
	// retries of each REST request (upstream.HTTP.Retries): 0 the
	// default, negative none (reading the instrument lists at start).
	retries int
}

// link is the connection settings every venue's feed shares.
func (d deps) link() upstream.Config {
	return upstream.Config{Budget: d.budget, Backoff: upstream.Backoff{Max: d.ep.BackoffMax}, Logger: d.log, Metrics: d.met, Tap: d.tap}
}

// http is the venue's REST client: the shared HTTP client, retries, log
// and metrics, under the venue's request limiter.
func (d deps) http(venue string, lim *rate.Limiter) *upstream.HTTP {
	return &upstream.HTTP{Venue: venue, Client: d.client, Retries: d.retries, Limiter: lim, Logger: d.log, Metrics: d.met}
}

// budgetOr is a venue's connect budget: its own limit per window, or
// connect_budget from the config per hour.
func budgetOr(connects int, window time.Duration) func(config.Venue) *upstream.Budget {
	return func(ep config.Venue) *upstream.Budget {
		if ep.ConnectBudget > 0 {
			return upstream.NewBudget(ep.ConnectBudget, time.Hour, nil)
		}
		return upstream.NewBudget(connects, window, nil)
	}
}

// venueKind is everything the command line knows about one venue. Adding a
// venue is its package, its simulator front-end, and one entry here.
type venueKind struct {
	grace   time.Duration // how late a final may be (exchange time)
	silence time.Duration // the feed's silence timeout when the config sets none
	budget  func(ep config.Venue) *upstream.Budget
	feed    func(d deps) (collector.Feed, error)
	fetcher func(d deps) (collector.Fetcher, error)
	mount   func(s *sim.Server) config.Venue // endpoints on host "HOST"
	simSpec func(symbol string) sim.Spec
	example func(ep config.Venue, symbol string) string
	bins    candle.Options // what the venue's bins carry
	// tradesOnly: the venue publishes no bins (collector.Venue.TradesOnly).
	tradesOnly bool
}

var venueKinds = map[string]venueKind{
	"binance": {
		grace:   10 * time.Second,
		silence: 60 * time.Second,
		budget: func(config.Venue) *upstream.Budget {
			return upstream.NewBudget(binance.ConnectsPerWindow, binance.ConnectWindow, nil)
		},
		feed: func(d deps) (collector.Feed, error) {
			return binance.NewFeed(binance.Config{WSURL: d.ep.WSURL, Silence: d.ep.SilenceTimeout, Config: d.link()}), nil
		},
		fetcher: func(d deps) (collector.Fetcher, error) {
			base := d.ep.RESTURL
			if base == "" {
				base = "https://api.binance.com"
			}
			h := d.http("binance", rate.NewLimiter(binance.DefaultWeightPerSecond, 200))
			return &binance.REST{Base: strings.TrimRight(base, "/"), HTTP: h}, nil
		},
		mount: func(s *sim.Server) config.Venue {
			binancesim.Mount(s, "/binance")
			return config.Venue{WSURL: "ws://HOST/binance", RESTURL: "http://HOST/binance"}
		},
		simSpec: binancesim.Spec,
		example: func(ep config.Venue, symbol string) string {
			s := strings.ToLower(symbol)
			return fmt.Sprintf("%s/stream?streams=%s@kline_1m/%s@aggTrade", ep.WSURL, s, s)
		},
	},
	"bitmex": {
		grace:   45 * time.Second, // bins are published about 15 s after the minute
		silence: 10 * time.Second, // a ping after 5 s, 5 s for the pong
		budget: func(ep config.Venue) *upstream.Budget {
			return upstream.NewBudget(cmp.Or(ep.ConnectBudget, bitmex.DefaultConnectsPerHour), time.Hour, nil)
		},
		feed: func(d deps) (collector.Feed, error) {
			half := d.ep.SilenceTimeout / 2 // a ping after half, the other half for its pong
			return bitmex.NewFeed(bitmex.Config{WSURL: d.ep.WSURL, Idle: half, PongWait: half, Config: d.link()})
		},
		fetcher: func(d deps) (collector.Fetcher, error) {
			if d.ep.RESTURL == "" {
				return nil, bitmex.ErrNoEndpoint
			}
			h := d.http("bitmex", rate.NewLimiter(bitmex.RequestsPerSecond, 5))
			return &bitmex.REST{Base: strings.TrimRight(d.ep.RESTURL, "/"), HTTP: h}, nil
		},
		mount: func(s *sim.Server) config.Venue {
			bitmexsim.Mount(s, "/bitmex")
			return config.Venue{WSURL: "ws://HOST/bitmex/realtime", RESTURL: "http://HOST/bitmex"}
		},
		simSpec: bitmexsim.Spec,
		example: func(ep config.Venue, symbol string) string {
			return fmt.Sprintf("%s?subscribe=tradeBin1m:%s,trade:%s", ep.WSURL, symbol, symbol)
		},
	},
	"okx":      okxKind,
	"bybit":    bybitKind,
	"kraken":   krakenKind,
	"coinbase": coinbaseKind,
}

var coinbaseKind = venueKind{
	grace:      10 * time.Second, // a minute is final at the next match or heartbeat (one a second)
	silence:    10 * time.Second,
	tradesOnly: true,
	budget:     budgetOr(coinbase.ConnectsPerWindow, coinbase.ConnectWindow),
	feed: func(d deps) (collector.Feed, error) {
		return coinbase.NewFeed(coinbase.Config{WSURL: d.ep.WSURL, Silence: d.ep.SilenceTimeout, Config: d.link()}), nil
	},
	fetcher: func(d deps) (collector.Fetcher, error) {
		h := d.http("coinbase", rate.NewLimiter(coinbase.RequestsPerSecond, 10))
		return &coinbase.REST{Base: strings.TrimRight(cmp.Or(d.ep.RESTURL, "https://api.exchange.coinbase.com"), "/"), HTTP: h}, nil
	},
	mount: func(s *sim.Server) config.Venue {
		coinbasesim.Mount(s, "/coinbase")
		return config.Venue{WSURL: "ws://HOST/coinbase", RESTURL: "http://HOST/coinbase"}
	},
	simSpec: coinbasesim.Spec,
	example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s (matches and heartbeat of %s)", ep.WSURL, symbol)
	},
}

var krakenKind = venueKind{
	grace:   30 * time.Second, // a window is final when a later one has trades: wait for one before REST
	silence: 10 * time.Second,
	budget:  budgetOr(kraken.ConnectsPerWindow, kraken.ConnectWindow),
	bins:    candle.Options{Unmergeable: true},
	feed: func(d deps) (collector.Feed, error) {
		return kraken.NewFeed(kraken.Config{WSURL: d.ep.WSURL, Silence: d.ep.SilenceTimeout, Config: d.link()}), nil
	},
	fetcher: func(d deps) (collector.Fetcher, error) {
		h := d.http("kraken", rate.NewLimiter(kraken.RequestsPerSecond, 3))
		return &kraken.REST{Base: strings.TrimRight(cmp.Or(d.ep.RESTURL, "https://api.kraken.com"), "/"), HTTP: h}, nil
	},
	mount: func(s *sim.Server) config.Venue {
		krakensim.Mount(s, "/kraken")
		return config.Venue{WSURL: "ws://HOST/kraken/v2", RESTURL: "http://HOST/kraken"}
	},
	simSpec: krakensim.Spec,
	example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s (ohlc and trade of %s)", ep.WSURL, strings.Replace(symbol, "-", "/", 1))
	},
}

var bybitKind = venueKind{
	grace:   10 * time.Second,
	silence: 30 * time.Second,
	budget:  budgetOr(bybit.ConnectsPerWindow, bybit.ConnectWindow),
	bins:    candle.Options{Unmergeable: true, NoCount: true},
	feed: func(d deps) (collector.Feed, error) {
		return bybit.NewFeed(bybit.Config{WSURL: d.ep.WSURL, PingEvery: d.ep.SilenceTimeout / 2, Silence: d.ep.SilenceTimeout, Config: d.link()}), nil
	},
	fetcher: func(d deps) (collector.Fetcher, error) {
		h := d.http("bybit", rate.NewLimiter(bybit.RequestsPerSecond, 10))
		return &bybit.REST{Base: strings.TrimRight(cmp.Or(d.ep.RESTURL, "https://api.bybit.com"), "/"), HTTP: h}, nil
	},
	mount: func(s *sim.Server) config.Venue {
		bybitsim.Mount(s, "/bybit")
		return config.Venue{WSURL: "ws://HOST/bybit/v5/public/spot", RESTURL: "http://HOST/bybit"}
	},
	simSpec: bybitsim.Spec,
	example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s (kline.1.%s, publicTrade.%s)", ep.WSURL, symbol, symbol)
	},
}

var okxKind = venueKind{
	grace:   20 * time.Second, // finals and trades come on two connections, which may drift apart
	silence: 30 * time.Second, // OKX cuts a connection idle for 30 s
	budget: func(ep config.Venue) *upstream.Budget {
		return upstream.NewBudget(cmp.Or(ep.ConnectBudget, okx.ConnectsPerWindow), okx.ConnectWindow, nil)
	},
	bins: candle.Options{Unmergeable: true, NoCount: true},
	feed: func(d deps) (collector.Feed, error) {
		half := d.ep.SilenceTimeout / 2 // a ping after half, the other half for its pong
		return okx.NewFeed(okx.Config{WSURL: d.ep.WSURL, Idle: half, PongWait: half, Config: d.link()}), nil
	},
	fetcher: func(d deps) (collector.Fetcher, error) {
		h := d.http("okx", rate.NewLimiter(okx.RequestsPerSecond, 5))
		return &okx.REST{Base: strings.TrimRight(cmp.Or(d.ep.RESTURL, "https://www.okx.com"), "/"), HTTP: h}, nil
	},
	mount: func(s *sim.Server) config.Venue {
		okxsim.Mount(s, "/okx")
		return config.Venue{WSURL: "ws://HOST/okx", RESTURL: "http://HOST/okx"}
	},
	simSpec: okxsim.Spec,
	example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s/ws/v5/business (candle1m %s) and %s/ws/v5/public (trades %s)", ep.WSURL, symbol, ep.WSURL, symbol)
	},
}

// kind looks up a venue.
func kind(name string) (venueKind, error) {
	k, ok := venueKinds[name]
	if !ok {
		names := slices.Sorted(maps.Keys(venueKinds))
		return k, fmt.Errorf("%w: unknown venue %q (supported: %s)", errUsage, name, strings.Join(names, ", "))
	}
	return k, nil
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
		k, err := kind(name)
		if err != nil {
			return nil, err
		}
		d := deps{ep: eps[name], client: client, log: log.With("component", "rest"), met: met}
		rest, err := k.fetcher(d)
		if err != nil {
			return nil, err
		}
		d.log, d.budget = log.With("component", "feed"), k.budget(d.ep)
		if err := d.budget.Persist(ctx, conns, name, d.log); err != nil {
			return nil, err
		}
		feed, err := k.feed(d)
		if err != nil {
			return nil, err
		}
		out = append(out, collector.Venue{Name: name, Feed: feed, REST: rest, Markets: by[name], FinalGrace: k.grace, Bins: k.bins, TradesOnly: k.tradesOnly})
	}
	return out, nil
}

// buildFetcher makes a venue's REST fetcher.
func buildFetcher(name string, eps endpoints, client *http.Client, log *slog.Logger, met *metrics.Metrics) (collector.Fetcher, error) {
	k, err := kind(name)
	if err != nil {
		return nil, err
	}
	return k.fetcher(deps{ep: eps[name], client: client, log: log, met: met})
}

// check refuses settings for venues candlewire does not know.
func (e endpoints) check() error {
	for name := range e {
		if _, err := kind(name); err != nil {
			return err
		}
	}
	return nil
}

// inProcessSim starts a simulator on a free loopback port and returns the
// endpoints that point every venue at it (keeping e's other settings), and
// a function that stops it.
func (e endpoints) inProcessSim(cfg sim.Config, log *slog.Logger) (endpoints, func(), error) {
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
	out := eps.withHost(base)
	for name, v := range e {
		v.WSURL, v.RESTURL = out[name].WSURL, out[name].RESTURL
		out[name] = v
	}
	return out, stop, nil
}

// mountAll mounts every venue front-end on s and returns their endpoints
// relative to host "HOST".
func mountAll(s *sim.Server) endpoints {
	eps := endpoints{}
	for name, k := range venueKinds {
		eps[name] = k.mount(s)
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
