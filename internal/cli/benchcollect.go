package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/candlewire/candlewire/internal/bench"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
)

// benchCollect runs `candlewire bench collect`: many markets across every
// venue from a simulator in a child process, a fault on one venue, then a
// check of every market's candles against the simulator's trade log, with
// this process's CPU and memory.
func benchCollect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench collect", stderr)
	n := fs.Int("markets", 300, "markets, spread evenly over the venues")
	speed := fs.Float64("speed", 1, "simulated seconds per real second")
	d := fs.Duration("duration", 5*time.Minute, "real time to collect")
	fault := fs.String("fault", "okx:drop@2m,okx:refuse@2m+1m", "faults, venue:kind@at[+for] (simulated offsets), comma-separated")
	asJSON := fs.Bool("json", false, "print JSON")
	cpuProf := fs.String("cpuprofile", "", "write the collector's CPU profile over the run to this file")
	level := fs.String("log", "", "log the collector to stderr at this level (debug, info, warn, error); default none")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < len(registry.Names()) || *speed <= 0 || *d <= 0 {
		return fmt.Errorf("%w: --markets must be at least %d, --speed and --duration positive", errUsage, len(registry.Names()))
	}
	ms := bench.Markets(*n)
	addr, stopSim, err := bench.StartSim(ctx, ms, *speed, *fault, stderr)
	if err != nil {
		return err
	}
	defer stopSim()
	log := newLogger(io.Discard, "error")
	if *level != "" {
		log = newLogger(stderr, *level)
	}
	var prof io.Writer
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		defer f.Close()
		prof = f
	}
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	eps := mountAll(sim.New(sim.Config{})).withHost(addr)
	res, err := bench.Collect{Markets: ms, SimAddr: addr, Duration: *d, Logger: log, Profile: prof,
		Venues: func(ctx context.Context, ms []market.Market, conns upstream.ConnectLog, met *metrics.Metrics) ([]collector.Venue, error) {
			return buildVenues(ctx, ms, eps, conns, client, log, met)
		}}.Run(ctx)
	if err != nil {
		return err
	}
	res.Fault, res.SimSpeed = *fault, *speed
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			return err
		}
	} else {
		res.Print(stdout)
	}
	if res.Complete != res.Markets {
		return fmt.Errorf("%d of %d markets incomplete", res.Markets-res.Complete, res.Markets)
	}
	return nil
}
