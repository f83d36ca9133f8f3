package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/backfill"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
)

type backfillOptions struct {
	market   market.Market
	from, to int64
	db       string
	eps      endpoints
	sim      bool
}

func parseBackfill(args []string, stderr io.Writer) (backfillOptions, error) {
	fs := newFlags("backfill", stderr)
	mk := fs.String("market", market.Default.String(), "market, venue:SYMBOL")
	fromS := fs.String("from", "", "start time (required)")
	toS := fs.String("to", "now", "end time")
	db := fs.String("db", "./candlewire.db", "SQLite database file")
	cfgPath := fs.String("config", "", "YAML config file (for venue endpoints)")
	useSim := fs.Bool("sim", false, "backfill from an in-process simulator")
	var urls urlOverrides
	urls.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return backfillOptions{}, err
	}
	o := backfillOptions{db: *db, sim: *useSim, eps: endpoints{}}
	var err error
	if o.market, err = parseMarket(*mk); err != nil {
		return o, err
	}
	if *fromS == "" {
		return o, fmt.Errorf("%w: --from is required", errUsage)
	}
	if o.from, o.to, err = parseRange(*fromS, *toS); err != nil {
		return o, err
	}
	// Whole minutes only: the forming minute is the collector's business.
	o.from, o.to = market.I1m.Truncate(o.from), market.I1m.Truncate(o.to)
	if o.to <= o.from {
		return o, fmt.Errorf("%w: the range holds no whole minute", errUsage)
	}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return o, fmt.Errorf("%w: %v", errUsage, err)
		}
		o.eps = endpoints(cfg.Venues)
	}
	o.eps = urls.apply(o.eps)
	return o, o.eps.check()
}

func backfillCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseBackfill(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, "warn")
	if o.sim {
		var simSrv *api.Server
		if o.eps, simSrv, err = o.eps.inProcessSim(sim.Config{Seed: 1, Logger: log}, log); err != nil {
			return err
		}
		defer background(simSrv)()
	}
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	met := metrics.Discard()
	fetch, err := buildFetcher(o.market.Venue, o.eps, client, log, met)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, o.db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	stored, err := backfill.Run(ctx, fetch, collector.NewWriter(st, nil, log, met, 0), o.market, o.from, o.to, backfill.NewProgress(stderr, o.from, o.to))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backfilled %s %s .. %s: %d minutes fetched and stored (%d new or changed rows)\n",
		o.market, fmtTime(o.from), fmtTime(o.to), (o.to-o.from)/60_000, stored)
	return nil
}

// parseMarket reads one venue:SYMBOL flag value.
func parseMarket(s string) (market.Market, error) {
	m, err := market.ParseMarket(s)
	if err != nil {
		return m, fmt.Errorf("%w: %v", errUsage, err)
	}
	return m, nil
}

// parseRange reads --from and --to and checks their order.
func parseRange(fromS, toS string) (from, to int64, err error) {
	now := time.Now()
	if from, err = parseTime(fromS, now); err != nil {
		return 0, 0, err
	}
	if to, err = parseTime(toS, now); err != nil {
		return 0, 0, err
	}
	if to <= from {
		return 0, 0, fmt.Errorf("%w: --to must be after --from", errUsage)
	}
	return from, to, nil
}
