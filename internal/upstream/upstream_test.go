package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackoffFullJitter(t *testing.T) {
	t.Parallel()
	maxRand := func(n int64) int64 { return n - 1 }
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second, Rand: maxRand}
	cases := []struct {
		attempt int
		ceiling time.Duration
	}{{0, 100 * time.Millisecond}, {1, 200 * time.Millisecond}, {3, 800 * time.Millisecond}, {4, time.Second}, {60, time.Second}}
	for _, c := range cases {
		if got := b.Delay(c.attempt); got != c.ceiling-1 {
			t.Errorf("attempt %d: delay %v, want just under %v", c.attempt, got, c.ceiling)
		}
	}
	zero := Backoff{Rand: func(int64) int64 { return 0 }}
	if zero.Delay(5) != 0 {
		t.Error("full jitter must allow a zero wait")
	}
	for i := 0; i < 1000; i++ {
		if d := (Backoff{}).Delay(i % 40); d < 0 || d >= 60*time.Second {
			t.Fatalf("default delay out of range: %v", d)
		}
	}
}

func TestBudgetRollingWindow(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	b := NewBudget(3, time.Hour, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if left := b.Left(); left != 3-i {
			t.Fatalf("before attempt %d: %d left, want %d", i, left, 3-i)
		}
		if ok, _ := b.Reserve(); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		now = now.Add(10 * time.Minute)
	}
	ok, wait := b.Reserve()
	if ok || wait != 30*time.Minute {
		t.Fatalf("4th attempt: ok=%v wait=%v, want refused for 30m", ok, wait)
	}
	now = now.Add(30 * time.Minute)
	if left := b.Left(); left != 1 {
		t.Fatalf("after the oldest left the window: %d left, want 1", left)
	}
	if ok, _ := b.Reserve(); !ok {
		t.Fatal("slot not freed after the window")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Wait(ctx, nil); err == nil {
		t.Fatal("Wait ignored a cancelled context")
	}
}

// TestRunRedialsAndHonoursRefusal runs against a real WebSocket server that
// first refuses with 429, then accepts and closes each connection at once.
func TestRunRedialsAndHonoursRefusal(t *testing.T) {
	var hits, sessions atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Close(websocket.StatusGoingAway, "bye")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := Config{Venue: "test", Budget: NewBudget(100, time.Minute, nil), Backoff: Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}}
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	err := Run(ctx, cfg, url, func(ctx context.Context, conn *Conn) error {
		if sessions.Add(1) == 3 {
			cancel()
		}
		_, _, err := conn.Read(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if sessions.Load() != 3 || hits.Load() != 4 {
		t.Fatalf("sessions=%d hits=%d, want 3 sessions after 1 refusal", sessions.Load(), hits.Load())
	}
}

func TestRunRespectsBudget(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cfg := Config{Venue: "test", Budget: NewBudget(2, time.Hour, nil), Backoff: Backoff{Base: time.Millisecond, Max: time.Millisecond}}
	Run(ctx, cfg, "ws"+strings.TrimPrefix(srv.URL, "http"), func(context.Context, *Conn) error { return nil })
	if hits.Load() != 2 {
		t.Fatalf("%d connects, budget allows 2", hits.Load())
	}
}

// TestBudgetPersists: attempts an earlier process made count against the
// budget, and new ones are recorded for the next process.
func TestBudgetPersists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	log := store.NewMemory(nil)
	for _, ago := range []time.Duration{2 * time.Hour, 50 * time.Minute, 10 * time.Minute} {
		if err := log.AddConnect(ctx, "bitmex", now.Add(-ago)); err != nil {
			t.Fatal(err)
		}
	}
	b := NewBudget(3, time.Hour, func() time.Time { return now })
	if err := b.Persist(ctx, log, "bitmex", nil); err != nil {
		t.Fatal(err)
	}
	if left := b.Left(); left != 1 {
		t.Fatalf("%d connects left, want 1 (two of three used in the last hour by an earlier process)", left)
	}
	if err := b.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := log.Connects(ctx, "bitmex", now.Add(-time.Hour))
	if len(got) != 3 || !got[2].Equal(now) {
		t.Fatalf("recorded %v, want the new attempt at %v last", got, now)
	}
	next := NewBudget(3, time.Hour, func() time.Time { return now })
	if err := next.Persist(ctx, log, "bitmex", nil); err != nil {
		t.Fatal(err)
	}
	if ok, wait := next.Reserve(); ok || wait != 10*time.Minute {
		t.Fatalf("a restarted process got ok=%v wait=%v; want refused until the attempt of 50m ago leaves the window", ok, wait)
	}
}
