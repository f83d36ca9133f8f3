package binance

import (
	"context"
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

// TestFeedSubscribeShardAndLifetime puts only one stream in the URL (the
// rest go through SUBSCRIBE), allows two streams per connection (so three
// markets need three connections), and cuts connections after 1.5 s (the
// proactive redial before Binance's 24 h limit).
func TestFeedSubscribeShardAndLifetime(t *testing.T) {
	_, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 3, Speed: 30}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, URLStreams: 1, MaxStreams: 2, Config: upstream.Config{MaxLifetime: 1500 * time.Millisecond, Metrics: met, Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}}})
	ms := []market.Market{{Venue: Venue, Symbol: "BTCUSDT"}, {Venue: Venue, Symbol: "ETHUSDT"}, {Venue: Venue, Symbol: "SOLUSDT"}}
	sink := upstreamtest.NewSink()
	// Until every market has trades and klines and every connection was
	// redialled (a loaded machine may take longer than the 4 s this needs
	// when quiet), 30 s at most.
	upstreamtest.RunUntil(30*time.Second, func(ctx context.Context) { feed.Run(ctx, ms, sink) }, func() bool {
		return testutil.ToFloat64(met.Reconnects.WithLabelValues(Venue, "planned")) >= 3 && sink.Holds(func(s *upstreamtest.Sink) bool {
			for _, m := range ms {
				if s.TradeCount[m] == 0 || s.BinCount[m] == 0 {
					return false
				}
			}
			return s.LiveCalls >= 6
		})
	})
	for _, m := range ms {
		if sink.TradeCount[m] == 0 || sink.BinCount[m] == 0 {
			t.Errorf("%s: %d trades, %d klines; want both (aggTrade streams are subscribed with SUBSCRIBE)", m, sink.TradeCount[m], sink.BinCount[m])
		}
	}
	if got := testutil.ToFloat64(met.Reconnects.WithLabelValues(Venue, "planned")); got < 3 {
		t.Errorf("%v planned redials, want at least one per connection", got)
	}
	if sink.LiveCalls < 6 {
		t.Errorf("%d subscribe rounds, want ≥ 6 (3 connections, each redialled)", sink.LiveCalls)
	}
}

// TestSubscribePacing needs nine SUBSCRIBE messages on one connection. The
// simulator, like Binance, disconnects a client that sends more than five
// messages a second; the feed must pace itself and never be cut off.
func TestSubscribePacing(t *testing.T) {
	_, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 3, Speed: 30}, Driver)
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: ep.WSURL, URLStreams: 1, Batch: 1, Config: upstream.Config{Metrics: met}})
	var ms []market.Market
	for _, sym := range []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT"} {
		ms = append(ms, market.Market{Venue: Venue, Symbol: sym})
	}
	sink := upstreamtest.NewSink()
	// Until every market has klines (a loaded machine may take longer than
	// the 2.25 s the nine messages need), 30 s at most.
	upstreamtest.RunUntil(30*time.Second, func(ctx context.Context) { feed.Run(ctx, ms, sink) }, func() bool {
		return sink.Holds(func(s *upstreamtest.Sink) bool {
			for _, m := range ms {
				if s.BinCount[m] == 0 {
					return false
				}
			}
			return true
		})
	})
	for _, m := range ms {
		if sink.BinCount[m] == 0 {
			t.Errorf("%s: no klines; its SUBSCRIBE was lost", m)
		}
	}
	if n := testutil.ToFloat64(met.Connects.WithLabelValues(Venue, "ok")); n != 1 {
		t.Errorf("%v connects; the server cut the connection for sending too fast", n)
	}
}
