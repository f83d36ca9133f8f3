package okx

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

// TestFeedShardsAndGoesLive collects 45 markets with 20 per connection:
// three groups, each on a candle and a trade connection (six in all);
// every market gets trades and finals, and is declared live once by each
// of its two connections, after its acks.
func TestFeedShardsAndGoesLive(t *testing.T) {
	_, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 3, Speed: 120, History: 2 * time.Minute}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, ArgsPerConn: 20, Config: upstream.Config{Metrics: met, Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}}})
	var ms []market.Market
	for i := range 45 {
		ms = append(ms, Market(fmt.Sprintf("C%d-USDT", i)))
	}
	sink := upstreamtest.NewSink()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	feed.Run(ctx, ms, sink)
	for _, m := range ms {
		if sink.TradeCount[m] == 0 || sink.FinalCount[m] == 0 || sink.LiveCount[m] != 2 {
			t.Errorf("%s: %d trades, %d finals, live %d times; want trades, finals and live twice (candles and trades)", m, sink.TradeCount[m], sink.FinalCount[m], sink.LiveCount[m])
		}
	}
	if n := testutil.ToFloat64(met.Connects.WithLabelValues(Venue, "ok")); n != 6 {
		t.Errorf("%v connects, want 6", n)
	}
	if sink.Skipped != 0 {
		t.Errorf("%d frames skipped", sink.Skipped)
	}
}

// TestFeedPingsAndRedialsOnSilence: a half-open connection (no data, no
// pong) is found by the text ping within Idle+PongWait and redialled.
func TestFeedPingsAndRedialsOnSilence(t *testing.T) {
	s, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 4, Speed: 60, History: 2 * time.Minute}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, Idle: 100 * time.Millisecond, PongWait: 100 * time.Millisecond, Config: upstream.Config{Metrics: met, Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}}})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	go func() {
		time.Sleep(500 * time.Millisecond)
		s.Faults.Inject(Venue, sim.FaultSilence, 30*time.Second) //nolint:errcheck // a known kind
	}()
	sink := upstreamtest.NewSink()
	feed.Run(ctx, []market.Market{Market("BTC-USDT")}, sink)
	if n := testutil.ToFloat64(met.Reconnects.WithLabelValues(Venue, "silent")); n < 2 {
		t.Errorf("%v silent reconnects, want one per connection at least", n)
	}
	if sink.LiveCount[Market("BTC-USDT")] < 4 {
		t.Errorf("live %d times, want twice per connection (before and after the silence)", sink.LiveCount[Market("BTC-USDT")])
	}
}
