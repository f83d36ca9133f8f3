package upstreamtest

import (
	"sync"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Sink counts what a feed delivers, per market. Read its counts after the
// feed's Run has returned.
type Sink struct {
	mu         sync.Mutex
	TradeCount map[market.Market]int // trades
	FinalCount map[market.Market]int // reconciled bins
	LiveCount  map[market.Market]int // Live calls naming the market
	DownCount  map[market.Market]int // Down calls naming the market
	Skipped    int                   // Skip calls
}

var _ upstream.Sink = (*Sink)(nil)

// NewSink returns an empty Sink.
func NewSink() *Sink {
	return &Sink{TradeCount: map[market.Market]int{}, FinalCount: map[market.Market]int{},
		LiveCount: map[market.Market]int{}, DownCount: map[market.Market]int{}}
}

func (s *Sink) Trade(t market.Trade) { s.mu.Lock(); s.TradeCount[t.Market]++; s.mu.Unlock() }

func (s *Sink) Bin(c market.Candle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.State == market.Reconciled {
		s.FinalCount[c.Market]++
	}
}

func (s *Sink) Live(ms []market.Market) { s.count(s.LiveCount, ms) }
func (s *Sink) Down(ms []market.Market) { s.count(s.DownCount, ms) }

func (s *Sink) Skip(string, string, error) { s.mu.Lock(); s.Skipped++; s.mu.Unlock() }

func (s *Sink) count(to map[market.Market]int, ms []market.Market) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		to[m]++
	}
}
