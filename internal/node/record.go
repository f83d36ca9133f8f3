package node

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/record"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Record runs the feeds of ms's venues with a recorder on each venue's
// connections, and nothing else (no store, no repair), until ctx ends.
// rc is every recorder's settings but its venue. It returns the
// recorders, for their files.
func Record(ctx context.Context, ms []market.Market, eps Endpoints, rc record.Config, log *slog.Logger) ([]*record.Recorder, error) {
	order, by := byVenue(ms)
	var recs []*record.Recorder
	var wg sync.WaitGroup
	sink := &countingSink{log: log}
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx) // a venue that cannot start stops the others
	defer cancel()
	for _, name := range order {
		d, err := registry.Lookup(name)
		if err != nil {
			return recs, err
		}
		rc.Venue = name
		rec, err := record.New(rc)
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
		feed, err := d.Feed(eps[name], link(d, eps[name], log.With("component", "feed"), metrics.Discard(), rec))
		if err != nil {
			return recs, err
		}
		wg.Add(1)
		go func() { defer wg.Done(); feed.Run(ctx, by[name], sink) }() //nolint:errcheck // runs until ctx ends
	}
	log.Info("recording", "markets", len(ms), "dir", rc.Dir)
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

func (s *countingSink) Trades([]market.Trade) { s.frames.Add(1) }
func (s *countingSink) Bin(market.Candle)     { s.frames.Add(1) }
func (s *countingSink) Live([]market.Market)  {}
func (s *countingSink) Down([]market.Market)  {}
func (s *countingSink) Skip(venue, reason string, err error) {
	s.skipped.Add(1)
	s.log.Debug("frame not decoded (it is recorded all the same)", "venue", venue, "reason", reason, "err", err)
}

var _ upstream.Sink = (*countingSink)(nil)
