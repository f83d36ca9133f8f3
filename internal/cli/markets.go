package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
)

// listTimeout bounds loading one venue's list at start.
const listTimeout = 10 * time.Second

// fetchList reads one venue's instrument list.
func fetchList(ctx context.Context, venue string, eps endpoints, client *http.Client, met *metrics.Metrics) (instrument.List, error) {
	d, err := driver(venue)
	if err != nil {
		return nil, err
	}
	// One attempt, quietly: offline, the start must not wait out retries;
	// the caller says once why the list is missing.
	l, err := restDeps{client: client, log: slog.New(slog.DiscardHandler), met: met, retries: -1}.rest(d, eps[venue])
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	return l.Instruments(ctx)
}

// loadInstruments reads the lists of the venues of ms, all at once, and
// checks ms against them (instrument.Load).
func loadInstruments(ctx context.Context, ms []market.Market, eps endpoints, client *http.Client, log *slog.Logger,
	met *metrics.Metrics) (map[market.Market]instrument.Instrument, error) {
	read := func(ctx context.Context, venue string) (instrument.List, error) {
		return fetchList(ctx, venue, eps, client, met)
	}
	found, err := instrument.Load(ctx, ms, read, log)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (candlewire markets VENUE lists them)", errUsage, err)
	}
	return found, nil
}

// marketsCmd runs `candlewire markets VENUE`: the venue's instrument list.
func marketsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("markets", stderr)
	cfgPath := fs.String("config", "", "YAML config file (for venue endpoints)")
	useSim := fs.Bool("sim", false, "list an in-process simulator's instruments")
	asJSON := fs.Bool("json", false, "print JSON lines")
	var urls urlOverrides
	urls.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: markets needs one venue (%s)", errUsage, strings.Join(slices.Sorted(slices.Values(registry.Names())), ", "))
	}
	venue := fs.Arg(0)
	if _, err := driver(venue); err != nil {
		return err
	}
	eps := endpoints{}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		eps = endpoints(cfg.Venues)
	}
	eps = urls.apply(eps)
	log := newLogger(stderr, "warn")
	if *useSim {
		var simSrv *api.Server
		var err error
		if eps, simSrv, err = eps.inProcessSim(sim.Config{Seed: 1, Logger: log}, log); err != nil {
			return err
		}
		defer background(simSrv)()
	}
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	list, err := fetchList(ctx, venue, eps, client, metrics.Discard())
	if err != nil {
		return err
	}
	if *asJSON {
		return list.WriteJSON(stdout)
	}
	return list.WriteTable(stdout)
}
