package node

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCandleLogFallingBehindStops: run's candle log that falls behind
// the hub says so and returns; run's group then keeps the node running
// (the log's actor waits for the group to stop it).
func TestCandleLogFallingBehindStops(t *testing.T) {
	t.Parallel()
	var h hub.Hub
	defer h.Close()
	m := market.Default
	sub := h.Subscribe(hub.Stream{Market: m, Interval: market.I1m})
	p := market.MustDecimal("1")
	for i := range 10_000 { // far past the subscriber's queue
		h.Publish([]market.Candle{{Market: m, Interval: market.I1m, OpenTime: int64(i) * 60_000, Open: p, High: p, Low: p, Close: p,
			State: market.Reconciled, Seq: int64(i + 1)}})
	}
	var b strings.Builder
	done := make(chan struct{})
	go func() { defer close(done); logFinals(sub, slog.New(slog.NewTextHandler(&b, nil))) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the candle log did not stop when it fell behind")
	}
	if !strings.Contains(b.String(), `msg="candle log stopped"`) {
		t.Fatalf("logged:\n%s", b.String())
	}
}

// TestFormingEveryFollowsTheSimulator: forming_every is exchange time, so
// a time-compressed simulator shortens it in real time, down to every
// flush.
func TestFormingEveryFollowsTheSimulator(t *testing.T) {
	for _, c := range []struct {
		d     time.Duration
		speed float64
		want  time.Duration
	}{
		{time.Second, 1, time.Second},
		{time.Second, 0, time.Second}, // a simulator's default speed
		{time.Second, 10, 100 * time.Millisecond},
		{2 * time.Second, 60, 33_333_333},
		{time.Second, 2000, -1},
		{time.Second, 0.5, 2 * time.Second}, // slow motion: a second of its time is two of ours
		{0, 1, -1},
	} {
		if got := FormingEvery(c.d, c.speed); got != c.want {
			t.Errorf("FormingEvery(%v, %v) = %v; want %v", c.d, c.speed, got, c.want)
		}
	}
}
