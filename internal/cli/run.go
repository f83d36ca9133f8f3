package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	rungroup "github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/bitmexcompat"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/logdedup"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

// runOptions are the settings of `candlewire run` after flags and config merge.
type runOptions struct {
	markets  []market.Market
	db       string
	listen   string
	eps      endpoints
	sim      bool
	simSpeed float64
	simSeed  uint64
	log      string
	serve    config.Serve
	lookback time.Duration // gap repair's look-back; 0: the collector's default
	// health is the run's /healthz and counts its /v1/status, once it
	// has started.
	health *api.Health
	counts api.Counts
	// instruments are the markets as their venues list them (loaded at
	// start; a venue whose list could not be read has none).
	instruments map[market.Market]instrument.Instrument
}

func parseRun(args []string, stderr io.Writer) (runOptions, error) {
	fs := newFlags("run", stderr)
	markets := fs.String("markets", "", "comma-separated markets, venue:SYMBOL (default binance:BTCUSDT)")
	db := fs.String("db", "", "SQLite database file (default ./candlewire.db)")
	listen := fs.String("listen", "", "HTTP address for /metrics and /healthz (default 127.0.0.1:8080)")
	cfgPath := fs.String("config", "", "YAML config file; flags override it")
	useSim := fs.Bool("sim", false, "collect from an in-process exchange simulator (no network needed)")
	speed := fs.Float64("sim-speed", 1, "simulated seconds per real second, with --sim")
	seed := fs.Uint64("sim-seed", 1, "simulator seed, with --sim")
	level := fs.String("log", "", "log level: debug, info, warn, error (default info)")
	var urls urlOverrides
	urls.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return runOptions{}, err
	}
	var cfg config.Config
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return runOptions{}, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	o := runOptions{serve: cfg.Serve, db: pick(*db, cfg.DB, "./candlewire.db"), listen: pick(*listen, cfg.Listen, "127.0.0.1:8080"),
		eps: urls.apply(endpoints(cfg.Venues)), sim: *useSim, simSpeed: *speed, simSeed: *seed, log: pick(*level, cfg.Log, "info"),
		lookback: cfg.RepairLookback}
	list := *markets
	if list == "" && len(cfg.Markets) > 0 {
		list = strings.Join(cfg.Markets, ",")
	}
	if list == "" {
		list = market.Default.String()
	}
	var err error
	if o.markets, err = market.ParseMarkets(list); err != nil {
		return runOptions{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	return o, o.eps.check()
}

// pick returns the first non-empty value: flag, then config, then default.
func pick(vals ...string) string { return cmp.Or(vals...) }

func runCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	o, err := parseRun(args, stderr)
	if err != nil {
		return err
	}
	log, flush := runLogger(stderr, o.log)
	defer flush()
	return runWith(ctx, o, log)
}

// runLogger is run's logger. A failing store or venue logs the same line
// many times a second: it logs it once per 10 s, then how often it
// repeated; flush logs the counts still held back.
func runLogger(w io.Writer, level string) (log *slog.Logger, flush func()) {
	h := logdedup.New(newLogger(w, level).Handler(), logdedup.Options{})
	return slog.New(h), h.Close
}

// runWith collects, stores and serves until ctx ends. The node's
// components run under one group: the first to return stops the others,
// and shutdown takes one path, in order: the collector stores everything
// collected, the hub tells clients it is going away, the health stops
// sampling, the HTTP server stops.
func runWith(ctx context.Context, o runOptions, log *slog.Logger) error {
	var (
		g   rungroup.Group
		err error
	)
	if o.sim { // the exchanges, not part of the node: serving before it starts, stopped after it
		var simSrv *api.Server
		if o.eps, simSrv, err = o.eps.inProcessSim(sim.Config{Seed: o.simSeed, Speed: o.simSpeed, Logger: log.With("component", "sim")}, log); err != nil {
			return err
		}
		defer background(simSrv)()
	}
	if o.instruments, err = listed(ctx, o, log); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, o.db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	reg, met := newMetrics()
	o.health, o.counts = runHealth(o, st, met), met
	var h hub.Hub
	compat := bitmexcompat.New(bitmexcompat.Config{Store: st, Hub: &h, Markets: o.markets, Aliases: aliases(o.serve.BitMEX),
		Origins: o.serve.Origins})
	col, closeClient, err := newCollector(ctx, o, st, &h, compat, met, log)
	if err != nil {
		return err
	}
	defer closeClient()
	srv, err := startHTTP(o, st, &h, compat, reg, log)
	if err != nil {
		return err
	}
	// Interrupts run in the order added, once the first component returns
	// (the collector, when ctx ends).
	colCtx, stopCol := context.WithCancel(ctx)
	stored := make(chan struct{})
	g.Add(func() error { defer close(stored); return col.Run(colCtx) }, func(error) { stopCol(); <-stored })
	sub, logStop := h.Subscribe(streamsOf(o.markets, market.I1m)...), make(chan struct{})
	g.Add(func() error { logFinals(sub, log); <-logStop; return nil }, // a stopped candle log does not stop the node
		func(error) { h.Close(); close(logStop) }) // clients get "going away" too
	add(&g, o.health.Run)
	add(&g, srv.Run)
	err = g.Run()
	log.Info("stopped; everything collected is stored")
	return err
}

// add runs f under g until g stops it.
func add(g *rungroup.Group, f func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	g.Add(func() error { return f(ctx) }, func(error) { cancel() })
}

// newMetrics makes the registry /metrics serves, with the process's and
// the collector's metrics.
func newMetrics() (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, metrics.New(reg)
}

// listed loads the instrument lists of the markets' venues and checks the
// markets against them.
func listed(ctx context.Context, o runOptions, log *slog.Logger) (map[market.Market]instrument.Instrument, error) {
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	return loadInstruments(ctx, o.markets, o.eps, client, log.With("component", "instruments"), metrics.Discard())
}

// newCollector builds the venues and the collector; closeClient releases
// the REST client's connections.
func newCollector(ctx context.Context, o runOptions, st store.Store, h *hub.Hub, trades collector.Trades, met *metrics.Metrics,
	log *slog.Logger) (*collector.Collector, func(), error) {
	client := newHTTPClient()
	venues, err := buildVenues(ctx, o.markets, o.eps, st, client, log, met)
	if err == nil {
		var col *collector.Collector
		if col, err = collector.New(collector.Config{Store: st, Publisher: h, Trades: trades, Venues: venues, Logger: log,
			Metrics: met, MaxRepair: o.lookback}); err == nil {
			return col, client.CloseIdleConnections, nil
		}
	}
	client.CloseIdleConnections()
	return nil, nil, err
}

// aliases reads the config's BitMEX aliases (validated when loaded).
func aliases(in map[string]string) map[string]market.Market {
	out := map[string]market.Market{}
	for a, s := range in {
		if m, err := market.ParseMarket(s); err == nil {
			out[a] = m
		}
	}
	return out
}

// logFinals logs each final 1m candle, so the service shows candles
// arriving, until the hub closes. A log that fell behind (hub.ErrSlow)
// says so and stops.
func logFinals(sub *hub.Sub, log *slog.Logger) {
	for {
		u, err := sub.Next(context.Background())
		if err != nil {
			if !errors.Is(err, hub.ErrClosed) {
				log.Warn("candle log stopped", "err", err)
			}
			return
		}
		if c := u.Candle; c.State == market.Reconciled {
			logFinal(log, c)
		}
	}
}

// streamsOf lists the streams of markets in one interval.
func streamsOf(ms []market.Market, iv market.Interval) []hub.Stream {
	out := make([]hub.Stream, len(ms))
	for i, m := range ms {
		out[i] = hub.Stream{Market: m, Interval: iv}
	}
	return out
}

func logFinal(log *slog.Logger, c market.Candle) {
	log.Info("candle final", "market", c.Market.String(), "t", fmtTime(c.OpenTime), "o", c.Open.String(), "h", c.High.String(),
		"l", c.Low.String(), "c", c.Close.String(), "v", c.Volume.String(), "n", c.Trades, "rev", c.Rev, "source", string(c.Source))
}

// httpRoutes serves /metrics, /v1/status and /healthz.
func httpRoutes(reg *prometheus.Registry, st store.Store, o runOptions) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("GET /v1/status", api.StatusHandler(o.counts, st, o.markets, o.instruments))
	mux.Handle("GET /healthz", o.health.Handler())
	return mux
}

// runHealth is the health of a run's markets, read from the collector's
// metrics: each venue's silence timeout is the config's or its default.
func runHealth(o runOptions, f api.Finals, met *metrics.Metrics) *api.Health {
	venues := map[string]api.VenueWatch{}
	for _, m := range o.markets {
		if d, err := registry.Lookup(m.Venue); err == nil { // else the run refused it before this
			venues[m.Venue] = api.VenueWatch{Silence: d.SilenceOf(o.eps[m.Venue]), Grace: d.Grace}
		}
	}
	return api.NewHealth(f, o.markets, venues, met)
}

// goUntil runs f in a goroutine with a context that ends with ctx or
// when the returned function is called, which waits for f to return.
func goUntil(ctx context.Context, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f(ctx) }()
	return func() { cancel(); <-done }
}
