package bybit

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

// TestFeedShardsWithinArgLimits collects 12 symbols, 5 per connection:
// three connections, each subscribing its 10 topics in one message of at
// most 10 args (the simulator refuses more, as Bybit's spot does); every
// symbol gets trades and finals and goes live once.
func TestFeedShardsWithinArgLimits(t *testing.T) {
	_, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 3, Speed: 120, History: 2 * time.Minute}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, PerConn: 5, Config: upstream.Config{Metrics: met, Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}}})
	var ms []market.Market
	for i := range 12 {
		ms = append(ms, Market(fmt.Sprintf("C%dUSDT", i)))
	}
	sink := upstreamtest.NewSink()
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	feed.Run(ctx, ms, sink)
	for _, m := range ms {
		if sink.TradeCount[m] == 0 || sink.FinalCount[m] == 0 || sink.LiveCount[m] != 1 || sink.DownCount[m] != 1 {
			t.Errorf("%s: %d trades, %d finals, live %d, down %d; want trades, finals, live and down once", m, sink.TradeCount[m], sink.FinalCount[m], sink.LiveCount[m], sink.DownCount[m])
		}
	}
	if n := testutil.ToFloat64(met.Connects.WithLabelValues(Venue, "ok")); n != 3 || sink.Skipped != 0 {
		t.Errorf("%v connects (want 3), %d frames skipped", n, sink.Skipped)
	}
}

// TestFeedFindsSilence: a half-open connection (nothing, not even pongs)
// is replaced after Silence.
func TestFeedFindsSilence(t *testing.T) {
	s, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 4, Speed: 60, History: 2 * time.Minute}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, PingEvery: 50 * time.Millisecond, Silence: 200 * time.Millisecond, Config: upstream.Config{Metrics: met, Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go func() {
		time.Sleep(500 * time.Millisecond)
		s.Faults.Inject(Venue, sim.FaultSilence, 30*time.Second) //nolint:errcheck // a known kind
	}()
	feed.Run(ctx, []market.Market{Market("BTCUSDT")}, upstreamtest.NewSink())
	if n := testutil.ToFloat64(met.Reconnects.WithLabelValues(Venue, "silent")); n < 1 {
		t.Errorf("%v silent reconnects, want at least one", n)
	}
}
