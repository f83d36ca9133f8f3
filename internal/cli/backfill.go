package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/candlewire/candlewire/internal/backfill"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
	"github.com/candlewire/candlewire/internal/upstream"
)

type backfillOptions struct {
	node.BackfillConfig
	venues venueFlags
	log    logFlags
}

func parseBackfill(args []string, stderr io.Writer) (backfillOptions, error) {
	fs := newFlags("backfill", stderr)
	mk := fs.String("market", market.Default.String(), "market, venue:SYMBOL")
	fromS := fs.String("from", "", "start time (required)")
	toS := fs.String("to", "now", "end time")
	var o backfillOptions
	db := fs.String("db", "", dbUsage)
	o.log.register(fs, "warn")
	o.venues.register(fs, "backfill from an in-process simulator", 0)
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	var err error
	if o.Market, err = parseMarket(*mk); err != nil {
		return o, err
	}
	if *fromS == "" {
		return o, fmt.Errorf("%w: --from is required", errUsage)
	}
	if o.From, o.To, err = parseRange(*fromS, *toS); err != nil {
		return o, err
	}
	// Whole minutes only: the forming minute is the collector's business.
	o.From, o.To = market.I1m.Truncate(o.From), market.I1m.Truncate(o.To)
	if o.To <= o.From {
		return o, fmt.Errorf("%w: the range holds no whole minute", errUsage)
	}
	cfg, eps, err := o.venues.load()
	o.Endpoints, o.DB, o.Origin = eps, dbOf(*db, cfg.DB), o.venues.origin()
	o.log.withConfig(cfg.Log, cfg.LogFormat)
	return o, err
}

func backfillCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseBackfill(args, stderr)
	if err != nil {
		return err
	}
	log, err := o.log.logger(stderr)
	if err != nil {
		return err
	}
	var stop func()
	if o.Endpoints, stop, err = o.venues.start(o.Endpoints, log); err != nil {
		return err
	}
	defer stop()
	r, err := node.Backfill(ctx, o.BackfillConfig, backfill.NewProgress(stderr, o.From, o.To), log)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("stopped at %s, before %s: %d minutes received and stored; run the same command to continue from there",
			fmtTime(r.Until), fmtTime(o.To), r.Received)
	case err != nil:
		return fmt.Errorf("stopped at %s: %w", fmtTime(r.Until), offlineHint(err))
	}
	fmt.Fprintf(stdout, "backfilled %s %s .. %s: %d minutes; %d received from the venue (%d of them new or changed here); %d already final here; %d the venue did not have (minutes without trades, or before its history)\n",
		o.Market, fmtTime(o.From), fmtTime(o.To), r.Minutes, r.Received, r.Stored, r.Had, r.Missing())
	return nil
}

// offlineHint says, as run does, what an error that finds no network
// means, in place of the request's long story.
func offlineHint(err error) error {
	if msg, ok := upstream.Offline(err); ok {
		return errors.New(msg)
	}
	return err
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
	if from, err = timeFlag(fromS, now); err != nil {
		return 0, 0, err
	}
	if to, err = timeFlag(toS, now); err != nil {
		return 0, 0, err
	}
	if to <= from {
		return 0, 0, fmt.Errorf("%w: --to must be after --from", errUsage)
	}
	return from, to, nil
}
