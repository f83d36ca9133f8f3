package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/logdedup"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
)

// parseRun reads run's flags and config into the node's settings and how
// it logs.
func parseRun(args []string, stderr io.Writer) (node.Config, logFlags, error) {
	return parseNode("run", node.Single, args, stderr)
}

// parseNode reads the flags and config of a node command (run, collect,
// serve) of role.
func parseNode(name string, role node.Role, args []string, stderr io.Writer) (node.Config, logFlags, error) {
	fs := newFlags(name, stderr)
	markets := fs.String("markets", "", "comma-separated markets, venue:SYMBOL (default binance:BTCUSDT)")
	marketsFile := fs.String("markets-file", "", "a file of markets, venue:SYMBOL a line (as `candlewire markets VENUE --list` writes)")
	db := fs.String("db", "", dbUsage)
	listen := fs.String("listen", "", "HTTP address for /metrics and /healthz (default 127.0.0.1:8080)")
	var lf logFlags
	lf.register(fs, "info")
	nats := fs.String("nats", "", "join a cluster: NATS servers, comma-separated nats://HOST:PORT (default: the config's cluster.nats)")
	nodeName := fs.String("node", "", "this node's name in the cluster (default: the config's cluster.node, else the host's name)")
	var vf venueFlags
	if role != node.Gateway {
		vf.register(fs, "collect from an in-process exchange simulator (no network needed)", 1)
		fs.Uint64Var(&vf.seed, "sim-seed", 1, "simulator seed, with --sim")
	} else {
		fs.StringVar(&vf.config, "config", "", "YAML config file; flags override it")
	}
	if err := parseFlags(fs, args); err != nil {
		return node.Config{}, lf, err
	}
	cfg, eps, err := vf.load()
	if err != nil {
		return node.Config{}, lf, err
	}
	lf.withConfig(cfg.Log, cfg.LogFormat)
	o := node.Config{Serve: cfg.Serve, DB: dbOf(*db, cfg.DB), Listen: cmp.Or(*listen, cfg.Listen, "127.0.0.1:8080"),
		Endpoints: eps, Lookback: cfg.RepairLookback, FormingEvery: cfg.FormingEvery, Retention: cfg.Retention, Role: role, Cluster: cfg.Cluster}
	if err := clusterFlags(&o.Cluster, *nats, *nodeName); err != nil {
		return o, lf, err
	}
	if vf.sim {
		sc := vf.simConfig()
		o.Sim = &sc
	}
	if o.Markets, err = marketsOf(*markets, *marketsFile, cfg); err != nil {
		return o, lf, err
	}
	_, err = lf.handler(io.Discard) // a mistake in either is told before anything starts
	return o, lf, err
}

// clusterFlags applies --nats and --node over the config's cluster
// section.
func clusterFlags(c *config.Cluster, nats, name string) error {
	if nats != "" {
		c.NATS = strings.Split(nats, ",")
	}
	if name != "" {
		c.Node = name
	}
	if err := c.Check(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func runCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	return nodeCmd(ctx, "run", node.Single, args, stderr)
}

func collectCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	return nodeCmd(ctx, "collect", node.Collector, args, stderr)
}

func serveCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	return nodeCmd(ctx, "serve", node.Gateway, args, stderr)
}

// nodeCmd runs a node of role until ctx ends.
func nodeCmd(ctx context.Context, name string, role node.Role, args []string, stderr io.Writer) error {
	o, lf, err := parseNode(name, role, args, stderr)
	if err != nil {
		return err
	}
	log, flush, err := runLogger(stderr, lf)
	if err != nil {
		return err
	}
	defer flush()
	return node.Run(ctx, o, log)
}

// runLogger is run's logger. A failing store or venue logs the same line
// many times a second: it logs it once per 10 s, then how often it
// repeated; flush logs the counts still held back.
func runLogger(w io.Writer, lf logFlags) (log *slog.Logger, flush func(), err error) {
	inner, err := lf.handler(w)
	if err != nil {
		return nil, nil, err
	}
	h := logdedup.New(inner, logdedup.Options{})
	return slog.New(h), h.Close, nil
}

// marketsOf is the markets a node collects or serves: --markets, else
// --markets-file, else the config's markets_file or markets, else the
// default market.
func marketsOf(flag, file string, cfg config.Config) ([]market.Market, error) {
	if flag != "" && file != "" {
		return nil, misuse{"--markets and --markets-file: name the markets in one place"}
	}
	if file = cmp.Or(file, cfg.MarketsFile); flag == "" && file != "" {
		ms, err := config.ReadMarketsFile(file)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		return ms, nil
	}
	ms, err := market.ParseMarkets(cmp.Or(flag, strings.Join(cfg.Markets, ","), market.Default.String()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return ms, nil
}
