package node

import (
	"context"
	"log/slog"

	"github.com/candlewire/candlewire/internal/backfill"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
)

// BackfillConfig is the settings of `candlewire backfill`.
type BackfillConfig struct {
	Market    market.Market
	From, To  int64 // whole minutes, [From, To)
	DB        string
	Origin    string // OriginSim or OriginLive: the store must hold only such candles
	Endpoints Endpoints
}

// Backfill fetches cfg.Market's 1m history over REST and stores it, with
// rollups, in cfg.DB; progress hears each step. It returns how many rows
// were new or changed.
func Backfill(ctx context.Context, cfg BackfillConfig, progress *backfill.Progress, log *slog.Logger) (backfill.Result, error) {
	client := NewHTTPClient()
	defer client.CloseIdleConnections()
	met := metrics.Discard()
	fetch, err := cfg.Endpoints.Fetcher(cfg.Market.Venue, Deps{Client: client, Log: log, Metrics: met})
	none := backfill.Result{Minutes: (cfg.To - cfg.From) / 60_000, Until: cfg.From} // stopped before the first day
	if err != nil {
		return none, err
	}
	st, err := OpenStore(ctx, cfg.DB, false)
	if err != nil {
		return none, err
	}
	defer st.Close()
	if err := ClaimOrigin(ctx, st, cfg.DB, cfg.Origin); err != nil {
		return none, err
	}
	return backfill.Run(ctx, fetch, collector.NewWriter(st, nil, log, met, 0), st, cfg.Market, cfg.From, cfg.To, progress)
}
