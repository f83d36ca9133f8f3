package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type simOptions struct {
	listen  string
	cfg     sim.Config
	symbols []market.Market
	faults  []sim.Scheduled
}

func parseSim(args []string, stderr io.Writer) (simOptions, error) {
	fs := newFlags("sim", stderr)
	listen := fs.String("listen", "127.0.0.1:9100", "address to serve the venues' protocols on")
	seed := fs.Uint64("seed", 1, "random seed; the same seed and start give the same trades")
	speed := fs.Float64("speed", 1, "simulated seconds per real second")
	binDelay := fs.Duration("bin-delay", 15*time.Second, "simulated delay before a BitMEX bin is published")
	symbols := fs.String("symbols", demoSymbols(), "instruments to list, venue:SYMBOL (others are created on first use)")
	startS := fs.String("start", "now", "simulated start time")
	level := fs.String("log", "info", "log level")
	var faults multiFlag
	fs.Var(&faults, "fault", "inject a fault at a simulated offset: venue:kind@at[+for], e.g. binance:drop@2m (repeatable); kinds: "+strings.Join(sim.FaultKinds, ", "))
	if err := parseFlags(fs, args); err != nil {
		return simOptions{}, err
	}
	start, err := parseTime(*startS, time.Now())
	if err != nil {
		return simOptions{}, err
	}
	o := simOptions{listen: *listen, cfg: sim.Config{Seed: *seed, Speed: *speed, BinDelay: *binDelay,
		Start: market.I1m.Truncate(start), Logger: newLogger(stderr, *level)}}
	if o.symbols, err = market.ParseMarkets(*symbols); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, f := range faults {
		sc, err := sim.ParseScheduled(f)
		if err != nil {
			return o, fmt.Errorf("%w: %v", errUsage, err)
		}
		o.faults = append(o.faults, sc)
	}
	return o, nil
}

func simCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseSim(args, stderr)
	if err != nil {
		return err
	}
	s := sim.New(o.cfg)
	eps := mountAll(s)
	for _, m := range o.symbols {
		if err := createInstrument(s, m); err != nil {
			return err
		}
	}
	srv, err := api.Listen(o.listen, "", "", newLogger(io.Discard, "error"))
	if err != nil {
		return err
	}
	srv.Handler = s
	addr := srv.Addr().String()
	printSimURLs(stdout, eps.withHost(addr), addr, o.symbols)
	go s.RunSchedule(ctx, o.faults)
	return srv.Run(ctx)
}

// demoSymbols is every venue's demo instrument, venue:SYMBOL, comma-separated.
func demoSymbols() string {
	var out []string
	for _, d := range registry.All() {
		out = append(out, d.Demo().String())
	}
	return strings.Join(out, ",")
}

func createInstrument(s *sim.Server, m market.Market) error {
	d, err := driver(m.Venue)
	if err != nil {
		return err
	}
	s.Instrument(m.Venue, m.Symbol, d.Sim.Spec(m.Symbol))
	return nil
}

func printSimURLs(w io.Writer, eps endpoints, addr string, ms []market.Market) {
	fmt.Fprintf(w, "candlewire simulator on %s\n", addr)
	for _, v := range eps.sortedVenues() {
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
