package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
	"github.com/candlewire/candlewire/internal/sim"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func parseSim(args []string, stderr io.Writer) (node.SimConfig, error) {
	fs := newFlags("sim", stderr)
	o := node.SimConfig{Sim: sim.Config{BinDelay: 15 * time.Second}}
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:9100", "address to serve the venues' protocols on")
	fs.Uint64Var(&o.Sim.Seed, "seed", 1, "random seed; the same seed and start give the same trades")
	fs.Float64Var(&o.Sim.Speed, "speed", 1, "simulated seconds per real second")
	fs.DurationVar(&o.Sim.BinDelay, "bin-delay", 15*time.Second, "simulated delay before a BitMEX bin is published")
	symbols := fs.String("symbols", demoSymbols(), "instruments to list, venue:SYMBOL (others are created on first use)")
	startS := fs.String("start", "now", "simulated start time")
	var lf logFlags
	lf.register(fs, "info")
	var faults multiFlag
	fs.Var(&faults, "fault", "inject a fault at a simulated offset: venue:kind@at[+for], e.g. binance:drop@2m (repeatable); kinds: "+
		strings.Join(sim.FaultKinds, ", "))
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	start, err := timeFlag(*startS, time.Now())
	if err != nil {
		return o, err
	}
	o.Sim.Start = market.I1m.Truncate(start)
	if o.Sim.Logger, err = lf.logger(stderr); err != nil {
		return o, err
	}
	if o.Symbols, err = market.ParseMarkets(*symbols); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, m := range o.Symbols {
		if _, err := registry.Lookup(m.Venue); err != nil {
			return o, err
		}
	}
	for _, f := range faults {
		sc, err := sim.ParseScheduled(f)
		if err != nil {
			return o, fmt.Errorf("%w: %v", errUsage, err)
		}
		o.Faults = append(o.Faults, sc)
	}
	return o, nil
}

func simCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseSim(args, stderr)
	if err != nil {
		return err
	}
	return node.Sim(ctx, o, stdout)
}

// demoSymbols is every venue's demo instrument, venue:SYMBOL, comma-separated.
func demoSymbols() string {
	var out []string
	for _, d := range registry.All() {
		out = append(out, d.Demo().String())
	}
	return strings.Join(out, ",")
}
