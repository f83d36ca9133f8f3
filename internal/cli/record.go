package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
	"github.com/candlewire/candlewire/internal/record"
)

type recordOptions struct {
	markets  []market.Market
	rec      record.Config // but the venue
	duration time.Duration
	eps      node.Endpoints
	venues   venueFlags
	log      logFlags
}

func parseRecord(args []string, stderr io.Writer) (recordOptions, error) {
	fs := newFlags("record", stderr)
	markets := fs.String("markets", market.Default.String(), "comma-separated markets, venue:SYMBOL")
	dir := fs.String("dir", "./recordings", "folder of the recordings")
	rotate := fs.Duration("rotate", time.Hour, "start a new file after this long")
	maxMB := fs.Int64("max-size", 256, "or after this many MiB of lines")
	dur := fs.Duration("duration", 0, "stop after this long (default: until interrupted)")
	var o recordOptions
	o.log.register(fs, "info")
	o.venues.register(fs, "record an in-process exchange simulator", 1)
	o.venues.seed = 0 // record's simulator has always used seed 0
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	ms, err := market.ParseMarkets(*markets)
	if err != nil || *rotate <= 0 || *maxMB <= 0 || *dur < 0 {
		return o, fmt.Errorf("%w: --markets, --rotate, --max-size or --duration: %v", errUsage, err)
	}
	o.markets, o.rec, o.duration = ms, record.Config{Dir: *dir, Rotate: *rotate, MaxBytes: *maxMB << 20}, *dur
	cfg, eps, err := o.venues.load()
	o.eps = eps
	o.log.withConfig(cfg.Log, cfg.LogFormat)
	return o, err
}

// recordCmd runs each venue's feed with a recorder on its connections and
// nothing else: no store, no repair.
func recordCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseRecord(args, stderr)
	if err != nil {
		return err
	}
	log, err := o.log.logger(stderr)
	if err != nil {
		return err
	}
	eps, stop, err := o.venues.start(o.eps, log)
	if err != nil {
		return err
	}
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	o.rec.Logger = log
	recs, err := node.Record(ctx, o.markets, eps, o.rec, log)
	for _, r := range recs {
		for _, f := range r.Files() {
			fmt.Fprintln(stdout, f)
		}
		if n := r.Skipped(); n > 0 {
			log.Warn("frames not recorded: text with line breaks", "count", n)
		}
	}
	return err
}
