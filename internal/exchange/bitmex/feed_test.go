package bitmex

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
	"github.com/candlewire/candlewire/internal/upstream/upstreamtest"
)

func TestNoEndpoint(t *testing.T) {
	if _, err := NewFeed(Config{}); err != ErrNoEndpoint || !strings.Contains(err.Error(), "closed on 2026-09-23") {
		t.Fatalf("err = %v", err)
	}
}

// TestOpSubscribe puts one topic in the URL; the trade topic must arrive
// through op:subscribe.
func TestOpSubscribe(t *testing.T) {
	_, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 5, Speed: 60}, Driver)
	feed, err := NewFeed(Config{WSURL: ep.WSURL, URLTopics: 1})
	if err != nil {
		t.Fatal(err)
	}
	sink := upstreamtest.NewSink()
	m := market.Market{Venue: Venue, Symbol: "XBTUSD"}
	// Until both have come (30 s at most: a loaded machine may be slow).
	upstreamtest.RunUntil(30*time.Second, func(ctx context.Context) { feed.Run(ctx, []market.Market{m}, sink) }, func() bool {
		return sink.Holds(func(s *upstreamtest.Sink) bool { return s.TradeCount[m] > 0 && s.BinCount[m] > 0 })
	})
	if sink.TradeCount[m] == 0 || sink.BinCount[m] == 0 {
		t.Fatalf("trades=%d bins=%d; want both (trade comes through op:subscribe)", sink.TradeCount[m], sink.BinCount[m])
	}
}

// TestRateLimitedSubscribe answers every connection with BitMEX's 429
// error: the client must wait retryAfter before redialling.
func TestRateLimitedSubscribe(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conns.Add(1)
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.Write(r.Context(), websocket.MessageText, []byte(`{"status":429,"error":"Rate limit exceeded, retry in 1 seconds.","meta":{"retryAfter":1},"request":{"op":"subscribe","args":"trade:XBTUSD"}}`))
		c.Read(r.Context())
	}))
	defer srv.Close()
	met := metrics.New(prometheus.NewRegistry())
	feed, _ := NewFeed(Config{WSURL: "ws" + srv.URL[4:], Config: upstream.Config{Metrics: met, Backoff: upstream.Backoff{Base: time.Millisecond, Max: time.Millisecond}}})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	feed.Run(ctx, []market.Market{market.Market{Venue: Venue, Symbol: "XBTUSD"}}, upstreamtest.NewSink())
	if n := conns.Load(); n < 2 || n > 3 {
		t.Fatalf("%d connects in 2.5 s; retryAfter of 1 s allows 3 at most and backoff alone would allow hundreds", n)
	}
	if testutil.ToFloat64(met.Reconnects.WithLabelValues(Venue, "rate-limited")) == 0 {
		t.Fatal("the 429 was not counted as rate-limited")
	}
}
