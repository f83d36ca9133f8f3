package upstream

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Budget limits connection attempts to Limit per rolling Window, shared by
// every connection of one venue (exchanges count connects per IP).
type Budget struct {
	limit  int
	window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	times  []time.Time // attempts inside the window, oldest first
}

// NewBudget allows limit connects per rolling window. now nil means time.Now.
func NewBudget(limit int, window time.Duration, now func() time.Time) *Budget {
	if now == nil {
		now = time.Now
	}
	if limit < 1 {
		limit = 1
	}
	return &Budget{limit: limit, window: window, now: now}
}

// String describes the budget, for logs.
func (b *Budget) String() string { return fmt.Sprintf("%d connects per %s", b.limit, b.window) }

// Left returns how many connects the budget allows right now.
func (b *Budget) Left() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(b.now())
	return b.limit - len(b.times)
}

// expire forgets attempts that have left the window. b.mu is held.
func (b *Budget) expire(now time.Time) {
	for len(b.times) > 0 && now.Sub(b.times[0]) >= b.window {
		b.times = b.times[1:]
	}
}

// Reserve takes a connect slot if one is free; otherwise it returns how long
// until the oldest attempt leaves the window.
func (b *Budget) Reserve() (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.expire(now)
	if len(b.times) < b.limit {
		b.times = append(b.times, now)
		return true, 0
	}
	return false, b.times[0].Add(b.window).Sub(now)
}

// Wait blocks until a connect slot is free or ctx ends. onWait, if not nil,
// is told each time it has to wait and for how long.
func (b *Budget) Wait(ctx context.Context, onWait func(time.Duration)) error {
	for {
		ok, wait := b.Reserve()
		if ok {
			return nil
		}
		if onWait != nil {
			onWait(wait)
		}
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Sleep waits for d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
