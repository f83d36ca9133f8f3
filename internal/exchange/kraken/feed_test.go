package kraken

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
	"github.com/candlewire/candlewire/internal/upstream/upstreamtest"
)

// TestFeedShardsAndSettles collects 7 pairs, 3 per connection: three
// connections; every pair gets trades and finals (the snapshot's, then
// settled windows) and goes live once, after its two acks.
func TestFeedShardsAndSettles(t *testing.T) {
	_, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 3, Speed: 120, History: 20 * time.Minute}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, PerConn: 3, Config: upstream.Config{Metrics: met, Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}}})
	var ms []market.Market
	for i := range 7 {
		ms = append(ms, Market(fmt.Sprintf("C%d/USD", i)))
	}
	sink := upstreamtest.NewSink()
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	feed.Run(ctx, ms, sink)
	for _, m := range ms {
		if sink.TradeCount[m] == 0 || sink.FinalCount[m] == 0 || sink.LiveCount[m] != 1 {
			t.Errorf("%s: %d trades, %d finals, live %d", m, sink.TradeCount[m], sink.FinalCount[m], sink.LiveCount[m])
		}
	}
	if n := testutil.ToFloat64(met.Connects.WithLabelValues(Venue, "ok")); n != 3 || sink.Skipped != 0 {
		t.Errorf("%v connects (want 3), %d skipped", n, sink.Skipped)
	}
}
