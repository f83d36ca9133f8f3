package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/candlewire/candlewire/internal/export"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
	"github.com/candlewire/candlewire/internal/store"
)

type watchOptions struct {
	node.WatchConfig
	format string // export's: "text" or "jsonl"
	db     string
	log    logFlags
	venues venueFlags
}

func parseWatch(args []string, stderr io.Writer) (watchOptions, error) {
	fs := newFlags("watch", stderr)
	asJSON := fs.Bool("json", false, "print JSON lines (the native candle wire format)")
	db := fs.String("db", "", "also store candles in this SQLite file or postgres:// database (default: memory only)")
	ivName := fs.String("interval", "1m", `intervals to print, comma-separated, or "all"`)
	var o watchOptions
	o.log.register(fs, "warn")
	o.venues.register(fs, "watch an in-process exchange simulator (no network needed; 60 simulated seconds a second unless --sim-speed says)", 60)
	markets, err := parseArgs(fs, args)
	if err != nil {
		return o, err
	}
	o.format, o.db = "text", *db
	if *asJSON {
		o.format = "jsonl"
	}
	list := market.Default.String()
	if len(markets) > 0 {
		list = strings.Join(markets, ",")
	}
	if o.Markets, err = market.ParseMarkets(list); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, eps, err := o.venues.load()
	if err != nil {
		return o, err
	}
	o.Endpoints = eps
	o.log.withConfig(cfg.Log, cfg.LogFormat)
	if o.Intervals, err = market.ParseIntervals(*ivName); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	return o, nil
}

// watchCmd is the tutorial's program done right: connect, keep the
// candles right, print one line per candle update.
func watchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseWatch(args, stderr)
	if err != nil {
		return err
	}
	log, err := o.log.logger(stderr)
	if err != nil {
		return err
	}
	o.Store = store.NewMemory(nil)
	if o.db != "" {
		if o.Store, err = node.OpenStore(ctx, o.db, false); err != nil {
			return err
		}
	}
	defer o.Store.Close()
	// A simulation goes on where the one stored in --db stopped.
	stop := func() {}
	if o.venues.sim {
		if o.Endpoints, stop, err = node.StartSimOn(ctx, o.Store, o.Markets, o.Endpoints, o.venues.simConfig(), log); err != nil {
			return err
		}
	}
	defer stop()
	if err := node.ClaimOrigin(ctx, o.Store, o.db, o.venues.origin()); err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	write := export.Writer(out, o.format)
	return node.Watch(ctx, o.WatchConfig, func(c market.Candle) error {
		if err := write(c); err != nil {
			return err
		}
		return out.Flush()
	}, log)
}
