package bybit

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/bybitsim"
	"github.com/candlewire/candlewire/internal/upstream"
)

type countSink struct {
	mu             sync.Mutex
	trades, finals map[market.Market]int
	live, down     map[market.Market]int
	skipped        int
}

func newCountSink() *countSink {
	return &countSink{trades: map[market.Market]int{}, finals: map[market.Market]int{}, live: map[market.Market]int{}, down: map[market.Market]int{}}
}

func (s *countSink) Trade(t market.Trade) { s.mu.Lock(); s.trades[t.Market]++; s.mu.Unlock() }
func (s *countSink) Bin(c market.Candle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.State == market.Reconciled {
		s.finals[c.Market]++
	}
}
func (s *countSink) Live(ms []market.Market) { s.count(s.live, ms) }
func (s *countSink) Down(ms []market.Market) { s.count(s.down, ms) }
func (s *countSink) count(to map[market.Market]int, ms []market.Market) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		to[m]++
	}
}
func (s *countSink) Skip(string, string, error) { s.mu.Lock(); s.skipped++; s.mu.Unlock() }

// TestFeedShardsWithinArgLimits collects 12 symbols, 5 per connection:
// three connections, each subscribing its 10 topics in one message of at
// most 10 args (the simulator refuses more, as Bybit's spot does); every
// symbol gets trades and finals and goes live once.
func TestFeedShardsWithinArgLimits(t *testing.T) {
	s := sim.New(sim.Config{Seed: 3, Speed: 120, History: 2 * time.Minute})
	bybitsim.Mount(s, "/bybit")
	srv := httptest.NewServer(s)
	defer srv.Close()
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: "ws" + srv.URL[4:] + "/bybit/v5/public/spot", PerConn: 5, Metrics: met,
		Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}})
	var ms []market.Market
	for i := range 12 {
		ms = append(ms, Market(fmt.Sprintf("C%dUSDT", i)))
	}
	sink := newCountSink()
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	feed.Run(ctx, ms, sink)
	for _, m := range ms {
		if sink.trades[m] == 0 || sink.finals[m] == 0 || sink.live[m] != 1 || sink.down[m] != 1 {
			t.Errorf("%s: %d trades, %d finals, live %d, down %d; want trades, finals, live and down once", m, sink.trades[m], sink.finals[m], sink.live[m], sink.down[m])
		}
	}
	if n := testutil.ToFloat64(met.Connects.WithLabelValues(Venue, "ok")); n != 3 || sink.skipped != 0 {
		t.Errorf("%v connects (want 3), %d frames skipped", n, sink.skipped)
	}
}

// TestFeedFindsSilence: a half-open connection (nothing, not even pongs)
// is replaced after Silence.
func TestFeedFindsSilence(t *testing.T) {
	s := sim.New(sim.Config{Seed: 4, Speed: 60, History: 2 * time.Minute})
	bybitsim.Mount(s, "/bybit")
	srv := httptest.NewServer(s)
	defer srv.Close()
	met := metrics.New(prometheus.NewRegistry())
	feed := NewFeed(Config{WSURL: "ws" + srv.URL[4:] + "/bybit/v5/public/spot", Metrics: met, PingEvery: 50 * time.Millisecond,
		Silence: 200 * time.Millisecond, Backoff: upstream.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go func() {
		time.Sleep(500 * time.Millisecond)
		s.Faults.Inject(Venue, sim.FaultSilence, 30*time.Second) //nolint:errcheck // a known kind
	}()
	feed.Run(ctx, []market.Market{Market("BTCUSDT")}, newCountSink())
	if n := testutil.ToFloat64(met.Reconnects.WithLabelValues(Venue, "silent")); n < 1 {
		t.Errorf("%v silent reconnects, want at least one", n)
	}
}
