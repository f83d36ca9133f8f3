package hub

import (
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

func TestSlowSubscriberIsDroppedOthersContinue(t *testing.T) {
	t.Parallel()
	var h Hub
	slow := h.Subscribe(2, nil)
	fast := h.Subscribe(100, nil)
	btcOnly := h.Subscribe(100, func(c market.Candle) bool { return c.Market.Symbol == "BTCUSDT" })
	var batch []market.Candle
	for i := 0; i < 5; i++ {
		batch = append(batch, market.Candle{Market: market.Default, OpenTime: int64(i) * 60_000})
	}
	batch = append(batch, market.Candle{Market: market.Market{Venue: "bitmex", Symbol: "XBTUSD"}})
	if n := h.Publish(batch); n != 1 {
		t.Fatalf("dropped %d subscribers, want 1", n)
	}
	if got := len(fast.C); got != 6 {
		t.Fatalf("fast subscriber got %d, want 6", got)
	}
	if got := len(btcOnly.C); got != 5 {
		t.Fatalf("filtered subscriber got %d, want 5", got)
	}
	for range slow.C {
	}
	if slow.Reason() != "too slow: queue full" {
		t.Fatalf("reason %q", slow.Reason())
	}
	h.Close()
	if _, ok := <-fast.C; !ok {
		t.Fatal("queued candles lost on close")
	}
}
