package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	rungroup "github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/bitmexcompat"
	"github.com/candlewire/candlewire/internal/bus"
	"github.com/candlewire/candlewire/internal/cluster"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/lease"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/retention"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Config is the settings of the single node (`candlewire run`).
type Config struct {
	Markets   []market.Market
	DB        string // SQLite file
	Listen    string // HTTP address
	Endpoints Endpoints
	Serve     config.Serve
	Lookback  time.Duration // gap repair's look-back; 0: the collector's default
	// FormingEvery is how often at most a forming bin is stored
	// (collector.Config.FormingEvery); 0: the collector's default.
	FormingEvery time.Duration
	Retention    config.Retention // what the store keeps (intervals: any store; changes, candles: PostgreSQL)
	Role         Role
	Cluster      config.Cluster // NATS servers to join, when any
	// Sim, when set, is an in-process simulator every venue points at.
	// It is not part of the node: it serves before the node starts and
	// stops after it.
	Sim *sim.Config
}

// Role is what a node runs.
type Role int

// Roles.
const (
	Single    Role = iota // collects, stores and serves (run)
	Collector             // collects and stores (collect)
	Gateway               // serves what others store (serve)
)

func (r Role) collects() bool { return r != Gateway }
func (r Role) serves() bool   { return r != Collector }

// String names the role as /v1/status and /metrics do.
func (r Role) String() string {
	return [...]string{"single", "collector", "gateway"}[r]
}

// node is one Run's shared parts.
type node struct {
	Config
	st          store.Store
	bus         *cluster.Conn       // nil outside a cluster
	members     *cluster.Membership // in a cluster: who collects what
	relay       *lease.Lease        // in a cluster: the relay's lease (held by a collector's relay, read by a gateway)
	relayer     *bus.Relay          // a collector's relay
	hub         *hub.Hub
	reg         *prometheus.Registry
	met         *metrics.Metrics
	links       upstream.Links // the venues' connections, for /healthz and /v1/status
	health      *api.Health
	instruments map[market.Market]instrument.Instrument // as the venues list them; a venue whose list could not be read has none
	log         *slog.Logger
}

// Run collects, stores and serves until ctx ends. The node's components
// run under one group: the first to return stops the others, and
// shutdown takes one path, in order: the collector stores everything
// collected, the hub tells clients it is going away, the health stops
// sampling, the HTTP server stops.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	n := &node{Config: cfg, hub: &hub.Hub{}, log: log}
	n.reg, n.met = newMetrics()
	if cfg.Role.collects() {
		n.met.Declare(cfg.Markets)
	}
	if !postgres.IsDSN(cfg.DB) && (cfg.Role != Single || cfg.Cluster.On()) {
		return fmt.Errorf("a %s needs a PostgreSQL store that others share (--db postgres://…), not %q", cfg.Role.part(), cfg.DB)
	}
	var err error
	if n.st, err = openStore(ctx, n.DB, false, postgres.Options{Retention: n.Retention, Logger: log.With("component", "store")}); err != nil {
		return err
	}
	defer n.st.Close()
	if cfg.Role.collects() {
		stop, err := n.startVenues(ctx)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.Cluster.On() {
		if n.bus, err = cluster.Connect(ctx, cfg.Cluster, 15*time.Second, log.With("component", "nats")); err != nil {
			return err
		}
		defer n.bus.Close()
	}
	return n.run(ctx)
}

// part names what needs a shared store.
func (r Role) part() string {
	if r == Single {
		return "cluster node"
	}
	return r.String()
}

// run composes the components of the node's role once the store is
// open. Interrupts run in the order the components are added, once the
// first returns (the collector, or the watch of ctx, when ctx ends).
func (n *node) run(ctx context.Context) error {
	node := "single"
	if n.bus != nil {
		node = n.bus.Node
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "candlewire_node_info",
		Help:        "The node's role (single, collector, gateway) and its name in the cluster.",
		ConstLabels: prometheus.Labels{"role": n.Role.String(), "node": node}})
	info.Set(1)
	n.reg.MustRegister(info)
	n.health = n.newHealth()
	var compat *bitmexcompat.Server
	if n.Role.serves() {
		compat = bitmexcompat.New(bitmexcompat.Config{Store: n.st, Hub: n.hub, Markets: n.Markets, Aliases: aliases(n.Serve.BitMEX),
			Origins: n.Serve.Origins})
	}
	client := NewHTTPClient()
	defer client.CloseIdleConnections()
	var g rungroup.Group
	if n.Role.collects() {
		if err := n.addCollector(ctx, &g, client, compat); err != nil {
			return err
		}
	} else {
		g.Add(func() error { <-ctx.Done(); return nil }, func(error) {})
	}
	if err := n.addBus(ctx, &g, compat); err != nil {
		return err
	}
	srv, err := n.startHTTP(compat)
	if err != nil {
		return err
	}
	if n.Role.serves() {
		sub, logStop := n.hub.Subscribe(streamsOf(n.Markets, market.I1m)...), make(chan struct{})
		g.Add(func() error { logFinals(sub, n.log); <-logStop; return nil }, // a stopped candle log does not stop the node
			func(error) { close(logStop) })
	}
	add(&g, n.hub.Run) // clients get "going away"
	add(&g, n.health.Run)
	add(&g, srv.Run)
	if upkeep, ok := n.st.(interface{ Run(context.Context) error }); ok {
		add(&g, upkeep.Run) // a PostgreSQL store's retention
	}
	if rs, ok := n.st.(retention.Store); ok && n.Role.collects() && len(n.Retention.Intervals) > 0 {
		add(&g, retention.New(rs, retention.Config{Spans: n.Retention.IntervalSpans(), Deleted: n.met.Retained,
			Keep: cmp.Or(n.Lookback, config.DefaultRepairLookback) + 24*time.Hour, Logger: n.log.With("component", "retention")}).Run)
	}
	err = g.Run()
	n.log.Info("stopped; everything collected is stored")
	return err
}

// addCollector adds the venues' collector, first: stopping it stores
// everything collected. A store other processes write too feeds the hub
// through the change log (addBus); otherwise the collector publishes what
// it stores.
func (n *node) addCollector(ctx context.Context, g *rungroup.Group, client *http.Client, compat *bitmexcompat.Server) error {
	var conns upstream.ConnectLog = n.st
	if n.bus != nil {
		conns = nodeConnects{log: n.st, node: n.bus.Node}
	}
	venues, err := n.Endpoints.Venues(ctx, n.Markets, conns, Deps{Client: client, Log: n.log, Metrics: n.met, Links: &n.links})
	if err != nil {
		return err
	}
	cfg := collector.Config{Store: n.st, Venues: venues, Logger: n.log, Metrics: n.met, MaxRepair: n.Lookback,
		FormingEvery: n.formingEvery()}
	var trades *bus.TradePublisher
	if _, shared := n.st.(*postgres.Store); !shared {
		cfg.Publisher = n.hub
	}
	if compat != nil {
		cfg.Trades = compat
	}
	if n.bus != nil {
		if n.members, err = n.join(ctx, cluster.NewMembership); err != nil {
			return err
		}
		cfg.Assign = n.members
		trades = n.tradePublisher() // a serving node's trade table reads them from the bus
		cfg.Trades = trades
	}
	col, err := collector.New(cfg)
	if err != nil {
		return err
	}
	colCtx, stopCol := context.WithCancel(ctx)
	stored := make(chan struct{})
	g.Add(func() error { defer close(stored); return col.Run(colCtx) }, func(error) { stopCol(); <-stored })
	if trades != nil { // publishes until the collector stopped
		add(g, trades.Run)
	}
	if n.members != nil { // leaves the members after the collector stored everything
		add(g, n.members.Run)
	}
	return nil
}

// add runs f under g until g stops it; stopping it waits for f to
// return, so the components stop one after another, in the order added.
func add(g *rungroup.Group, f func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	g.Add(func() error { defer close(done); return f(ctx) }, func(error) { cancel(); <-done })
}

// newMetrics makes the registry /metrics serves, with the process's and
// the collector's metrics.
func newMetrics() (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, metrics.New(reg)
}

// newHealth is the health of the node's markets, read from the
// collector's metrics: each venue's silence timeout is the config's or
// its default.
func (n *node) newHealth() *api.Health {
	venues := map[string]api.VenueWatch{}
	for _, m := range n.Markets {
		if d, err := registry.Lookup(m.Venue); err == nil { // else the venues refused it before this
			venues[m.Venue] = api.VenueWatch{Silence: d.SilenceOf(n.Endpoints[m.Venue]), Grace: d.Grace}
		}
	}
	var links api.Links
	if n.Role.collects() {
		links = &n.links
	}
	return api.NewHealth(n.st, n.Markets, venues, n.met, links)
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

// logFinals logs each final 1m candle of sub, so the service shows
// candles arriving, until the hub closes. A log that fell behind
// (hub.ErrSlow) says so and stops.
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
			log.Info("candle final", "market", c.Market.String(), "t", time.UnixMilli(c.OpenTime).UTC().Format(time.RFC3339),
				"o", c.Open.String(), "h", c.High.String(), "l", c.Low.String(), "c", c.Close.String(), "v", c.Volume.String(),
				"n", c.Trades, "rev", c.Rev, "source", string(c.Source))
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

// formingEvery is how often at most the collector stores a forming bin,
// in real time (FormingEvery).
func (c Config) formingEvery() time.Duration {
	speed := 1.0
	if c.Sim != nil {
		speed = c.Sim.Speed
	}
	return FormingEvery(cmp.Or(c.FormingEvery, collector.DefaultFormingEvery), speed)
}

// FormingEvery turns d, how often at most a forming bin is stored in
// exchange time, into real time for a simulator running at speed: a
// time-compressed demo's forming candles then move as a live one's do.
// Below a millisecond it is every flush (-1, collector.Config.FormingEvery).
func FormingEvery(d time.Duration, speed float64) time.Duration {
	if speed > 0 {
		d = time.Duration(float64(d) / speed)
	}
	if d < time.Millisecond {
		return -1
	}
	return d
}
