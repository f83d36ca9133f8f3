package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/record"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
)

type recordOptions struct {
	markets  []market.Market
	dir      string
	rotate   time.Duration
	maxBytes int64
	duration time.Duration
	eps      endpoints
	sim      bool
	simSpeed float64
	log      string
}

func parseRecord(args []string, stderr io.Writer) (recordOptions, error) {
	fs := newFlags("record", stderr)
	markets := fs.String("markets", market.Default.String(), "comma-separated markets, venue:SYMBOL")
	dir := fs.String("dir", "./recordings", "folder of the recordings")
	rotate := fs.Duration("rotate", time.Hour, "start a new file after this long")
	maxMB := fs.Int64("max-size", 256, "or after this many MiB of lines")
	dur := fs.Duration("duration", 0, "stop after this long (default: until interrupted)")
	cfgPath := fs.String("config", "", "YAML config file (venue endpoints)")
	useSim := fs.Bool("sim", false, "record an in-process exchange simulator")
	speed := fs.Float64("sim-speed", 1, "simulated seconds per real second, with --sim")
	level := fs.String("log", "info", "log level")
	var urls urlOverrides
	urls.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return recordOptions{}, err
	}
	var cfg config.Config
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return recordOptions{}, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	ms, err := market.ParseMarkets(*markets)
	if err != nil || *rotate <= 0 || *maxMB <= 0 || *dur < 0 {
		return recordOptions{}, fmt.Errorf("%w: --markets, --rotate, --max-size or --duration: %v", errUsage, err)
	}
	o := recordOptions{markets: ms, dir: *dir, rotate: *rotate, maxBytes: *maxMB << 20, duration: *dur,
		eps: urls.apply(endpoints(cfg.Venues)), sim: *useSim, simSpeed: *speed, log: *level}
	return o, o.eps.check()
}

// recordCmd runs each venue's feed with a recorder on its connections and
// nothing else: no store, no repair.
func recordCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseRecord(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, o.log)
	if o.sim {
		var simSrv *api.Server
		if o.eps, simSrv, err = o.eps.inProcessSim(sim.Config{Speed: o.simSpeed, Logger: log.With("component", "sim")}, log); err != nil {
			return err
		}
		defer background(simSrv)()
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	recs, err := recordVenues(ctx, o, log)
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

// recordVenues runs every venue's feed until ctx ends.
func recordVenues(ctx context.Context, o recordOptions, log *slog.Logger) ([]*record.Recorder, error) {
	by := map[string][]market.Market{}
	for _, m := range o.markets {
		by[m.Venue] = append(by[m.Venue], m)
	}
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	var recs []*record.Recorder
	var wg sync.WaitGroup
	sink := &countingSink{log: log}
	for name, ms := range by {
		d, err := driver(name)
		if err != nil {
			return recs, err
		}
		rec, err := record.New(record.Config{Dir: o.dir, Venue: name, Rotate: o.rotate, MaxBytes: o.maxBytes, Logger: log})
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
		ep := o.eps[name]
		feed, err := d.Feed(ep, link(d, ep, log.With("component", "feed"), metrics.Discard(), rec))
		if err != nil {
			return recs, err
		}
		wg.Add(1)
		go func() { defer wg.Done(); feed.Run(ctx, ms, sink) }() //nolint:errcheck // runs until ctx ends
	}
	log.Info("recording", "markets", len(o.markets), "dir", o.dir)
	wg.Wait()
	log.Info("recording stopped", "frames", sink.frames.Load(), "skipped", sink.skipped.Load())
	return recs, nil
}

// countingSink takes what the feeds decode and counts it; the recording
// is the raw frames.
type countingSink struct {
	log             *slog.Logger
	frames, skipped atomic.Int64
}

func (s *countingSink) Trade(market.Trade)   { s.frames.Add(1) }
func (s *countingSink) Bin(market.Candle)    { s.frames.Add(1) }
func (s *countingSink) Live([]market.Market) {}
func (s *countingSink) Down([]market.Market) {}
func (s *countingSink) Skip(venue, reason string, err error) {
	s.skipped.Add(1)
	s.log.Debug("frame not decoded (it is recorded all the same)", "venue", venue, "reason", reason, "err", err)
}

var _ upstream.Sink = (*countingSink)(nil)
