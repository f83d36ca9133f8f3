package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

type watchOptions struct {
	markets []market.Market
	json    bool
	sim     bool
	speed   float64
	db      string
	ivs     []market.Interval
	log     string
	eps     endpoints
}

func parseWatch(args []string, stderr io.Writer) (watchOptions, error) {
	fs := newFlags("watch", stderr)
	asJSON := fs.Bool("json", false, "print JSON lines (the native candle wire format)")
	useSim := fs.Bool("sim", false, "watch an in-process exchange simulator (no network needed)")
	speed := fs.Float64("sim-speed", 1, "simulated seconds per real second, with --sim")
	db := fs.String("db", "", "also store candles in this SQLite file (default: memory only)")
	ivName := fs.String("interval", "1m", `interval to print, or "all"`)
	level := fs.String("log", "warn", "log level: debug, info, warn, error")
	var urls urlOverrides
	urls.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return watchOptions{}, err
	}
	o := watchOptions{json: *asJSON, sim: *useSim, speed: *speed, db: *db, log: *level, eps: urls.apply(nil)}
	list := market.Default.String()
	if fs.NArg() > 0 {
		list = strings.Join(fs.Args(), ",")
	}
	var err error
	if o.markets, err = market.ParseMarkets(list); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	o.ivs, err = watchIntervals(*ivName)
	return o, err
}

// watchCmd is the tutorial's program done right: connect, keep the
// candles right, print one line per candle update.
func watchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseWatch(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, o.log)
	eps := o.eps
	if o.sim {
		var simSrv *api.Server
		if eps, simSrv, err = eps.inProcessSim(sim.Config{Seed: 1, Speed: o.speed, Logger: log}, log); err != nil {
			return err
		}
		defer background(simSrv)()
	}
	var st store.Store = store.NewMemory(nil)
	if o.db != "" {
		if st, err = sqlite.Open(ctx, o.db, nil); err != nil {
			return err
		}
	}
	defer st.Close()
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	met := metrics.Discard()
	venues, err := buildVenues(ctx, o.markets, eps, st, client, log, met)
	if err != nil {
		return err
	}
	var h hub.Hub
	var streams []hub.Stream
	for _, m := range o.markets {
		for _, iv := range o.ivs {
			streams = append(streams, hub.Stream{Market: m, Interval: iv})
		}
	}
	sub := h.Subscribe(streams...)
	col, err := collector.New(collector.Config{Store: st, Publisher: &h, Venues: venues, Logger: log, Metrics: met})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); col.Run(ctx); h.Close() }()
	defer wg.Wait()
	return printAll(stdout, sub, o.json)
}

// printAll prints every candle change of sub until the hub closes (after
// the collector's last write).
func printAll(w io.Writer, sub *hub.Sub, asJSON bool) error {
	for {
		u, err := sub.Next(context.Background())
		if errors.Is(err, hub.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("output stopped: %w", err)
		}
		if err := printCandle(w, u.Candle, asJSON); err != nil {
			return err
		}
	}
}

// watchIntervals reads --interval: one interval, or "all".
func watchIntervals(name string) ([]market.Interval, error) {
	if name == "all" {
		return market.Intervals, nil
	}
	iv, err := market.ParseInterval(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return []market.Interval{iv}, nil
}

func printCandle(w io.Writer, c market.Candle, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(w, "%s %s %-3s o=%s h=%s l=%s c=%s v=%s n=%d %s rev=%d (%s)\n", fmtTime(c.OpenTime), c.Market,
		c.Interval, c.Open, c.High, c.Low, c.Close, c.Volume, c.Trades, c.State, c.Rev, c.Source)
	return err
}
