package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
	keep   *kept       // where attempts are recorded across restarts; nil: nowhere
}

// ConnectLog keeps a venue's connect attempts across restarts, so that a
// process that crashes and restarts in a loop still connects no more often
// than the venue allows.
type ConnectLog interface {
	// Connects returns the venue's attempts at or after since, oldest first.
	Connects(ctx context.Context, venue string, since time.Time) ([]time.Time, error)
	// AddConnect records one attempt.
	AddConnect(ctx context.Context, venue string, at time.Time) error
}

type kept struct {
	log   ConnectLog
	venue string
	warn  *slog.Logger
}

// Persist loads the venue's attempts inside the window from log, so they
// count against the budget, and records every later attempt there. A
// failure to record is logged and does not stop the connect.
func (b *Budget) Persist(ctx context.Context, log ConnectLog, venue string, warn *slog.Logger) error {
	past, err := log.Connects(ctx, venue, b.now().Add(-b.window))
	if err != nil {
		return fmt.Errorf("read %s connect attempts: %w", venue, err)
	}
	if warn == nil {
		warn = slog.New(slog.DiscardHandler)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.times = append(past, b.times...)
	slices.SortFunc(b.times, time.Time.Compare)
	b.keep = &kept{log: log, venue: venue, warn: warn}
	return nil
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

// Limit is how many connects the budget allows per window.
func (b *Budget) Limit() int { return b.limit }

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
	ok, wait, _ = b.reserve()
	return ok, wait
}

// reserve is Reserve, also returning the time of the attempt it took.
func (b *Budget) reserve() (ok bool, wait time.Duration, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.expire(now)
	if len(b.times) < b.limit {
		b.times = append(b.times, now)
		return true, 0, now
	}
	return false, b.times[0].Add(b.window).Sub(now), time.Time{}
}

// Wait blocks until a connect slot is free or ctx ends. onWait, if not nil,
// is told each time it has to wait and for how long.
func (b *Budget) Wait(ctx context.Context, onWait func(time.Duration)) error {
	for {
		ok, wait, at := b.reserve()
		if ok {
			b.record(ctx, at)
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

// record writes the attempt just reserved to the connect log, if any.
func (b *Budget) record(ctx context.Context, at time.Time) {
	b.mu.Lock()
	k := b.keep
	b.mu.Unlock()
	if k == nil {
		return
	}
	if err := k.log.AddConnect(ctx, k.venue, at); err != nil && ctx.Err() == nil {
		k.warn.Warn("cannot record a connect attempt; a restart may not count it against the budget", "venue", k.venue, "err", err)
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
