package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Feed is a venue's live connection: it delivers to sink until ctx ends.
type Feed interface {
	Run(ctx context.Context, markets []market.Market, sink upstream.Sink) error
}

// Fetcher reads a venue's 1m candles over REST for [from, to).
type Fetcher interface {
	Candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error)
}

// Venue is one venue to collect from.
type Venue struct {
	Name    string
	Feed    Feed
	REST    Fetcher
	Markets []market.Market
	// FinalGrace is how long after a bin's end (exchange time) its final
	// may take before gap repair fetches it; default 10s.
	FinalGrace time.Duration
	// Bins says what the venue's bins carry (candle.Options).
	Bins candle.Options
	// TradesOnly: the venue publishes no bins (Coinbase), so the feed cannot
	// finish the minute a (re)connect joins mid-way; the repair after the
	// outage waits for that minute to be due and covers it too.
	TradesOnly bool
}

// DefaultFormingEvery is Config.FormingEvery's default.
const DefaultFormingEvery = time.Second

// Config configures a Collector.
type Config struct {
	Store      store.Store
	Publisher  Publisher // optional: receives every stored change
	Trades     Trades    // optional: receives every live trade, e.g. for a BitMEX-compatible trade table
	Venues     []Venue
	FlushEvery time.Duration // default 100ms
	// FormingEvery is how often at most a forming bin's new version is
	// stored (and published), as venues' own kline streams push theirs
	// once a second or two; its first version and its close go out with
	// the next flush. 0: DefaultFormingEvery; negative, or FlushEvery or
	// less: every flush.
	FormingEvery time.Duration
	MaxRepair    time.Duration // longest history gap repair fetches; default 7 days
	Logger       *slog.Logger
	Metrics      *metrics.Metrics
	// Assign, when set, says which of the venues' markets this collector
	// collects and repairs now (a cluster's ownership); without it, all.
	Assign Assigner
}

// Assigner says which of a venue's markets a collector collects now and
// which of those it owns: only an owner repairs over REST. Changed's
// channel closes when that may have changed.
type Assigner interface {
	Markets(venue string) (collect, own []market.Market)
	Changed() <-chan struct{}
}

// Collector runs feeds, engines, the writer and gap repair.
type Collector struct {
	cfg    Config
	log    *slog.Logger
	met    *metrics.Metrics
	writer *Writer
}

// New checks cfg and builds a collector.
func New(cfg Config) (*Collector, error) {
	if cfg.Store == nil {
		return nil, errors.New("collector: no store")
	}
	for i, v := range cfg.Venues {
		if v.Feed == nil || v.REST == nil || len(v.Markets) == 0 {
			return nil, fmt.Errorf("collector: venue %q needs a feed, a REST fetcher and markets", v.Name)
		}
		if v.FinalGrace <= 0 {
			cfg.Venues[i].FinalGrace = defaultGrace
		}
	}
	if cfg.MaxRepair <= 0 {
		cfg.MaxRepair = 7 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.Discard()
	}
	if cfg.FormingEvery == 0 {
		cfg.FormingEvery = DefaultFormingEvery
	}
	c := &Collector{cfg: cfg, log: cfg.Logger.With("component", "collector"), met: cfg.Metrics}
	c.writer = NewWriter(cfg.Store, cfg.Publisher, cfg.Logger.With("component", "writer"), cfg.Metrics, cfg.FlushEvery)
	c.writer.HoldForming(cfg.FormingEvery)
	return c, nil
}

// Writer is the collector's writer (for flushing in tests and tools).
func (c *Collector) Writer() *Writer { return c.writer }

// Run collects until ctx ends. On return everything collected is stored.
func (c *Collector) Run(ctx context.Context) error {
	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	var writerDone sync.WaitGroup
	writerDone.Add(1)
	go func() { defer writerDone.Done(); c.writer.Run(wctx) }() //nolint:errcheck // the writer logs it; gap repair refills

	var reps []*repairer
	for _, v := range c.cfg.Venues {
		if c.cfg.Assign != nil {
			break // made for each assignment
		}
		rep, err := newRepairer(ctx, c, v)
		if err != nil {
			stopWriter()
			writerDone.Wait()
			if ctx.Err() != nil {
				return nil // stopped while starting: nothing was collected yet
			}
			return err
		}
		reps = append(reps, rep)
	}
	stopDrain := context.AfterFunc(ctx, c.writer.drain)
	defer stopDrain()
	var wg sync.WaitGroup
	for i, v := range c.cfg.Venues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.cfg.Assign != nil {
				c.follow(ctx, v)
			} else {
				c.collect(ctx, v, reps[i])
			}
		}()
	}
	wg.Wait()
	stopWriter() // feeds are done: the final flush sees everything
	writerDone.Wait()
	return nil
}

// collect runs v's feed and its repairer until ctx ends.
func (c *Collector) collect(ctx context.Context, v Venue, rep *repairer) {
	sink := newVenueSink(v, c.writer, c.cfg.Logger.With("component", "sink", "venue", v.Name), c.met)
	sink.trades = c.cfg.Trades
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); rep.run(ctx, sink.repairs) }()
	if err := v.Feed.Run(ctx, v.Markets, sink); err != nil {
		c.log.Error("feed stopped", "venue", v.Name, "err", err)
	}
	wg.Wait()
}

// follow collects the markets of v the assignment gives this collector,
// starting the venue's feed again on those of each new assignment (the
// pair's other collector keeps the markets that stay stored meanwhile,
// and gap repair fills any seam), until ctx ends. A change of which of
// them it owns alone moves the duty to repair in place: the feed goes on.
func (c *Collector) follow(ctx context.Context, v Venue) {
	var was []market.Market
	for ctx.Err() == nil {
		changed := c.cfg.Assign.Changed()
		collect, own := c.cfg.Assign.Markets(v.Name)
		if !slices.Equal(collect, was) {
			c.log.Info("assigned markets", "venue", v.Name, "collect", len(collect), "own", len(own))
		}
		was = collect
		owns := newOwned(own)
		vctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if len(collect) == 0 {
				<-vctx.Done()
				return
			}
			vv := v
			vv.Markets = collect
			if rep := c.startRepairer(vctx, vv); rep != nil {
				rep.owns = owns
				c.collect(vctx, vv, rep)
			}
		}()
		c.awaitChange(ctx, changed, v.Name, collect, owns)
		stop()
		<-done
	}
}

// startRepairer builds v's repairer, which reads where each market's
// history stands in the store, trying again with backoff while the store
// fails (an assignment may change while the database restarts); nil when
// ctx ends first.
func (c *Collector) startRepairer(ctx context.Context, v Venue) *repairer {
	for attempt := 0; ; attempt++ {
		rep, err := newRepairer(ctx, c, v)
		if err == nil {
			return rep
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := startBackoff.Delay(attempt)
		c.log.Warn("cannot start collecting; retrying", "venue", v.Name, "in", wait.Round(time.Millisecond), "err", err)
		if upstream.Sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// startBackoff spaces a collector's attempts to start a venue while the
// store fails.
var startBackoff = upstream.Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second}

// awaitChange waits until ctx ends or the markets of venue to collect
// are other than collect. A change of which of them this collector owns
// alone is made in owns.
func (c *Collector) awaitChange(ctx context.Context, changed <-chan struct{}, venue string, collect []market.Market, owns *owned) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		changed = c.cfg.Assign.Changed()
		nc, no := c.cfg.Assign.Markets(venue)
		if !slices.Equal(nc, collect) {
			return
		}
		if owns.set(no) {
			c.log.Info("owned markets changed", "venue", venue, "collect", len(collect), "own", len(no))
		}
	}
}
