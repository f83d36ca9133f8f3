package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/bench"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/node"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// benchCmd runs `candlewire bench fanout|transports|collect|soak`, and the
// client and floor processes of fanout, transports and soak (not for
// direct use).
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: bench needs fanout, transports, collect, soak or cluster", errUsage)
	}
	switch args[0] {
	case "fanout":
		return benchRuns(ctx, args[1:], stdout, stderr, "fanout", 10_000, 10, []string{"ws"})
	case "transports":
		return benchRuns(ctx, args[1:], stdout, stderr, "transports", 1000, 1, bench.Transports)
	case "collect":
		return benchCollect(ctx, args[1:], stdout, stderr)
	case "soak":
		return benchSoak(ctx, args[1:], stdout, stderr)
	case "cluster":
		return benchCluster(ctx, args[1:], stdout, stderr)
	case "client", "soak-client":
		return benchClient(ctx, args[0], args[1:], stdout, stderr)
	case "floor":
		return benchFloor(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown bench %q (want fanout, transports, collect, soak or cluster)", errUsage, args[0])
}

func benchRuns(ctx context.Context, args []string, stdout, stderr io.Writer, name string, clients int, rate float64, transports []string) error {
	fs := newFlags("bench "+name, stderr)
	counts := fs.String("clients", strconv.Itoa(clients), "concurrent clients; a comma-separated list runs each count in turn")
	o := bench.Options{Log: stderr}
	fs.Float64Var(&o.Rate, "rate", rate, "updates per second of the stream")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "measured time")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "publishing before the measurement")
	asJSON := fs.Bool("json", false, "print JSON results")
	png := fs.String("png", "", "also draw the results as a PNG chart to this file")
	fs.StringVar(&o.HeapProfile, "heapprofile", "", "write a heap profile of the server with every client connected and idle")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write the server's CPU profile over the measured time")
	cpus := cpuFlags(fs, &o)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cpus(); err != nil {
		return err
	}
	ns, err := bench.ParseClients(*counts)
	if err != nil || o.Rate <= 0 || o.Duration <= 0 {
		return fmt.Errorf("%w: --clients, --rate and --duration must be positive (--clients: a number or a list such as 2500,5000,10000)", errUsage)
	}
	if o.Exe, err = os.Executable(); err != nil {
		return err
	}
	var results bench.Runs
	for _, n := range ns {
		for _, tr := range transports {
			o.Transport, o.Clients = tr, n
			res, err := bench.Run(ctx, o)
			if err != nil {
				return fmt.Errorf("bench %s over %s with %d clients: %w", name, tr, n, err)
			}
			results = append(results, res)
		}
	}
	if *png != "" {
		if err := bench.ChartRuns(*png, name, *counts, o.Rate, results); err != nil {
			return err
		}
	}
	return bench.Report(stdout, *asJSON, results)
}

// cpuFlags declares --server-cpus, --client-cpus and --no-floor; the
// returned func puts them in o once the flags are parsed.
func cpuFlags(fs *flag.FlagSet, o *bench.Options) func() error {
	serverCPUs := fs.String("server-cpus", "", "pin the server (this process) to these CPUs, such as 0 or 0-1 (default: unpinned)")
	clientCPUs := fs.String("client-cpus", "", "pin the client process to these CPUs (default: unpinned)")
	fs.BoolVar(&o.NoFloor, "no-floor", false, "skip measuring the bare-write floor (the measured time is then one part)")
	return func() error {
		var err1, err2 error
		o.ServerCPUs, err1 = bench.ParseCPUs(*serverCPUs)
		o.ClientCPUs, err2 = bench.ParseCPUs(*clientCPUs)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return nil
	}
}

// benchCollect runs `candlewire bench collect`: many markets across every
// venue from a simulator in a child process, a fault on one venue, then a
// check of every market's candles against the simulator's trade log, with
// this process's CPU and memory.
func benchCollect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench collect", stderr)
	n := fs.Int("markets", 300, "markets, spread evenly over the venues")
	speed := fs.Float64("speed", 1, "simulated seconds per real second")
	forming := fs.Duration("forming-every", collector.DefaultFormingEvery, "store a forming bin's new version at most this often, in simulated time, as run's forming_every (0: every flush)")
	b := bench.Collect{Logger: newLogger(io.Discard, "error")}
	fs.DurationVar(&b.Duration, "duration", 5*time.Minute, "real time to collect")
	fault := fs.String("fault", "okx:drop@2m,okx:refuse@2m+1m", "faults, venue:kind@at[+for] (simulated offsets), comma-separated")
	asJSON := fs.Bool("json", false, "print JSON")
	cpuProf := fs.String("cpuprofile", "", "write the collector's CPU profile over the run to this file")
	level := fs.String("log", "", "log the collector to stderr at this level (debug, info, warn, error); default none")
	db := fs.String("db", "", "an empty postgres:// database to collect into (default: a temporary SQLite file)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db != "" {
		b.Open = func(ctx context.Context) (store.Store, error) { return node.OpenStore(ctx, *db, false) }
	}
	if *n < len(registry.Names()) || *speed <= 0 || b.Duration <= 0 || *forming < 0 {
		return fmt.Errorf("%w: --markets must be at least %d, --speed and --duration positive, --forming-every not negative", errUsage, len(registry.Names()))
	}
	b.FormingEvery = node.FormingEvery(*forming, *speed)
	if *level != "" {
		b.Logger = newLogger(stderr, *level)
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		defer f.Close()
		b.Profile = f
	}
	var (
		stopSim func()
		err     error
	)
	b.Markets = bench.Markets(*n)
	if b.SimAddr, stopSim, err = bench.StartSim(ctx, b.Markets, *speed, *fault, stderr); err != nil {
		return err
	}
	defer stopSim()
	client := node.NewHTTPClient()
	defer client.CloseIdleConnections()
	eps := node.SimEndpoints(sim.New(sim.Config{}), b.SimAddr)
	b.Venues = func(ctx context.Context, ms []market.Market, conns upstream.ConnectLog, met *metrics.Metrics) ([]collector.Venue, error) {
		return eps.Venues(ctx, ms, conns, node.Deps{Client: client, Log: b.Logger, Metrics: met})
	}
	res, err := b.Run(ctx)
	if err != nil {
		return err
	}
	res.Fault, res.SimSpeed = *fault, *speed
	return bench.Report(stdout, *asJSON, res)
}

// benchSoak runs `candlewire bench soak`: run and the simulator as child
// processes, many clients of every transport, faults, samples of the
// server over time, and at the end a check that every client received
// every final candle of its streams.
func benchSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench soak", stderr)
	var o bench.SoakOptions
	fs.IntVar(&o.WS, "ws", 5000, "WebSocket clients")
	fs.IntVar(&o.SSE, "sse", 500, "SSE clients")
	fs.IntVar(&o.Poll, "poll", 500, "long-poll clients")
	fs.DurationVar(&o.Duration, "duration", time.Hour, "soak time")
	fs.DurationVar(&o.Every, "every", time.Minute, "sampling period of the server process")
	fs.Float64Var(&o.Speed, "speed", 30, "simulated seconds per real second")
	fs.DurationVar(&o.FaultEvery, "fault-every", 3*time.Minute, "inject a simulator fault this often (real time; 0: none)")
	ms := fs.String("markets", "binance:BTCUSDT,okx:BTC-USDT,bybit:BTCUSDT,kraken:BTC-USD", "markets collected, venue:SYMBOL")
	ivs := fs.String("intervals", "1m,5m,1h", "intervals followed; each client follows two streams of markets × intervals")
	fs.DurationVar(&o.Settle, "settle", 3*time.Minute, "at the end, how long to wait for the store's finals and the clients' deliveries")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.WS < 0 || o.SSE < 0 || o.Poll < 0 || o.WS+o.SSE+o.Poll == 0 || o.Duration <= 0 || o.Every <= 0 || o.Speed <= 0 || o.FaultEvery < 0 {
		return fmt.Errorf("%w: --ws, --sse, --poll must not be negative (one positive); --duration, --every, --speed positive", errUsage)
	}
	var err error
	if o.Markets, err = market.ParseMarkets(*ms); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.Intervals, err = market.ParseIntervals(*ivs); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	res, err := bench.Soak(ctx, o, stderr)
	if err != nil {
		return err
	}
	return bench.Report(stdout, *asJSON, res)
}

// benchCluster runs `candlewire bench cluster`: NATS servers, collectors
// and gateways as processes on one machine, WebSocket clients, a probe of
// trade-to-client latency, a collector's kill -9 and a NATS outage; then
// the single node on the same simulator.
func benchCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench cluster", stderr)
	var o bench.ClusterOptions
	fs.StringVar(&o.DB, "db", "", "the cluster's PostgreSQL database, postgres://… (required)")
	natsBin := fs.String("nats-server", "", "the nats-server binary (default: on PATH, or in $GOPATH/bin)")
	fs.IntVar(&o.Markets, "markets", 1000, "markets, spread evenly over the simulated venues")
	fs.IntVar(&o.Clients, "clients", 2000, "WebSocket clients, spread over the gateways, two streams each")
	fs.IntVar(&o.Collectors, "collectors", 3, "collector processes")
	fs.IntVar(&o.Gateways, "gateways", 2, "gateway processes")
	fs.Float64Var(&o.Speed, "speed", 1, "simulated seconds per real second")
	fs.DurationVar(&o.Warmup, "warmup", time.Minute, "collecting before the steady phase, for the cluster and the single node alike")
	fs.DurationVar(&o.Steady, "steady", 2*time.Minute, "the steady phase that CPU, memory and latency are measured over")
	fs.DurationVar(&o.Outage, "outage", 10*time.Second, "how long every NATS server stays down")
	fs.IntVar(&o.Probe, "probe", 30, "streams whose trade-to-client latency is measured, per gateway")
	fs.BoolVar(&o.Single, "single", true, "then measure the single node (run) on the same simulator and clients")
	fs.DurationVar(&o.Settle, "settle", 3*time.Minute, "at the end, how long to wait for the store's finals and the clients' deliveries")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Markets < len(registry.Names()) || o.Clients < 0 || o.Collectors < 2 || o.Gateways < 1 || o.Speed <= 0 ||
		o.Steady <= 0 || o.Warmup < 0 || o.Outage < 0 || o.Probe < 1 {
		return fmt.Errorf("%w: --markets at least %d, --collectors at least 2, --gateways and --probe at least 1, --speed and --steady positive",
			errUsage, len(registry.Names()))
	}
	var err error
	if o.NATSServer, err = bench.NATSServer(*natsBin); err != nil {
		return err
	}
	res, err := bench.Cluster(ctx, o, stderr)
	if err != nil {
		return err
	}
	return bench.Report(stdout, *asJSON, res)
}

// benchClient is a client process of a bench run or a soak.
func benchClient(ctx context.Context, kind string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench "+kind, stderr)
	url := fs.String("url", "", "server base URL")
	tr := fs.String("transport", "ws", "ws, sse, longpoll or poll")
	n := fs.Int("clients", 1, "clients")
	streams := fs.String("streams", "", "streams, comma-separated (soak-client)")
	cpus := fs.String("cpus", "", "pin this process to these CPUs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := pinTo(*cpus); err != nil {
		return err
	}
	if kind == "client" {
		return bench.RunClients(ctx, *url, *tr, *n, os.Stdin, stdout)
	}
	return bench.RunSoakClients(ctx, *url, *tr, *n, strings.Split(*streams, ","), os.Stdin, stdout)
}

// benchFloor is the floor process of a fanout or transports run (see
// bench.RunFloor).
func benchFloor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench floor", stderr)
	n := fs.Int("sockets", 1, "loopback connections to open")
	cpus := fs.String("cpus", "", "pin this process to these CPUs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := pinTo(*cpus); err != nil {
		return err
	}
	return bench.RunFloor(ctx, *n, os.Stdin, stdout)
}

// pinTo pins this process to the CPUs of a --cpus flag (none: unpinned).
func pinTo(cpus string) error {
	pin, err := bench.ParseCPUs(cpus)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return bench.Pin(pin)
}
