package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
)

// WatchConfig is the settings of `candlewire watch`.
type WatchConfig struct {
	Markets   []market.Market
	Intervals []market.Interval
	Endpoints Endpoints
	Store     store.Store // where candles are kept (memory, or a file)
}

// Watch collects cfg's markets into cfg.Store and hands every change of
// their candles, in the intervals asked, to print, until ctx ends and the
// collector's last write is printed.
func Watch(ctx context.Context, cfg WatchConfig, print func(market.Candle) error, log *slog.Logger) error {
	client := NewHTTPClient()
	defer client.CloseIdleConnections()
	met := metrics.Discard()
	venues, err := cfg.Endpoints.Venues(ctx, cfg.Markets, cfg.Store, Deps{Client: client, Log: log, Metrics: met})
	if err != nil {
		return err
	}
	var h hub.Hub
	var streams []hub.Stream
	for _, iv := range cfg.Intervals {
		streams = append(streams, streamsOf(cfg.Markets, iv)...)
	}
	sub := h.Subscribe(streams...)
	col, err := collector.New(collector.Config{Store: cfg.Store, Publisher: &h, Venues: venues, Logger: log, Metrics: met,
		FormingEvery: -1}) // every version: watch prints each update, as the tutorial's program does
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); col.Run(ctx); h.Close() }() //nolint:errcheck // runs until ctx ends
	defer wg.Wait()
	for {
		u, err := sub.Next(context.Background())
		if errors.Is(err, hub.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("output stopped: %w", err)
		}
		if err := print(u.Candle); err != nil {
			return err
		}
	}
}
