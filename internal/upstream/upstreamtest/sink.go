package upstreamtest

import (
	"context"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Sink counts what a feed delivers, per market. Read its counts after the
// feed's Run has returned.
type Sink struct {
	mu         sync.Mutex
	TradeCount map[market.Market]int // trades
	BinCount   map[market.Market]int // bins, forming or final
	FinalCount map[market.Market]int // reconciled bins
	LiveCount  map[market.Market]int // Live calls naming the market
	DownCount  map[market.Market]int // Down calls naming the market
	LiveCalls  int                   // Live calls (subscribe rounds)
	Skipped    int                   // Skip calls
	Reasons    []string              // each Skip's reason
}

var _ upstream.Sink = (*Sink)(nil)

// NewSink returns an empty Sink.
func NewSink() *Sink {
	return &Sink{TradeCount: map[market.Market]int{}, BinCount: map[market.Market]int{}, FinalCount: map[market.Market]int{},
		LiveCount: map[market.Market]int{}, DownCount: map[market.Market]int{}}
}

func (s *Sink) Trades(ts []market.Trade) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range ts {
		s.TradeCount[t.Market]++
	}
}

func (s *Sink) Bin(c market.Candle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.BinCount[c.Market]++
	if c.State == market.Reconciled {
		s.FinalCount[c.Market]++
	}
}

func (s *Sink) Live(ms []market.Market) {
	s.count(s.LiveCount, ms)
	s.mu.Lock()
	s.LiveCalls++
	s.mu.Unlock()
}
func (s *Sink) Down(ms []market.Market) { s.count(s.DownCount, ms) }

func (s *Sink) Skip(_, reason string, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Skipped++
	s.Reasons = append(s.Reasons, reason)
}

// Holds reports whether f holds of the counts now; it may be called while
// the feed runs.
func (s *Sink) Holds(f func(*Sink) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f(s)
}

// RunUntil runs run until done holds (checked every 50 ms) or d has
// passed, then cancels it and waits for it to return: a feed test waits
// for what it needs, as long as a loaded machine takes, and no longer.
func RunUntil(d time.Duration, run func(ctx context.Context), done func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); run(ctx) }()
	for deadline := time.Now().Add(d); !done() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-stopped
}

func (s *Sink) count(to map[market.Market]int, ms []market.Market) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		to[m]++
	}
}
