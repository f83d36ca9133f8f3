package collector

import (
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
)

// TestFirstMinuteCoversWhatWasStored: a venue whose bins and trades come
// on two connections (OKX) may deliver the next minute's forming bin
// before the last trades of the minute the collector joined. Those trades
// store that minute, so the first repair must cover it: the market's first
// minute is the earliest it stored something not final, not the first
// event's.
func TestFirstMinuteCoversWhatWasStored(t *testing.T) {
	m := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	w := NewWriter(store.NewMemory(nil), nil, discardLogger(), metrics.Discard(), time.Hour)
	s := newVenueSink(Venue{Name: "okx", Markets: []market.Market{m}, Bins: candle.Options{Unmergeable: true}}, w, discardLogger(), metrics.Discard())
	s.Live([]market.Market{m})
	const minute = int64(60_000)
	p := market.MustDecimal("100")
	s.Bin(market.Candle{Market: m, Interval: market.I1m, OpenTime: 11 * minute, Open: p, High: p, Low: p, Close: p,
		State: market.Provisional, Source: market.SourceKline})
	s.Trades([]market.Trade{{Market: m, Time: 10*minute + 59_000, Price: p, Size: market.MustDecimal("1")}})
	if first := s.mkts[m].first; first != 10*minute {
		t.Fatalf("first minute %d, want %d: the minute the trades stored", first, 10*minute)
	}
}
