package tail

import (
	"context"
	"log/slog"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// Log is a change log read in sequence order (postgres.Store is one, and
// store.Memory).
type Log interface {
	Head(ctx context.Context) (int64, error)
	// Changes returns at most limit candles whose current revision was
	// stored after sequence number after, in sequence order, over every
	// series.
	Changes(ctx context.Context, after int64, limit int) ([]market.Candle, error)
}

// Publisher receives the changes (hub.Hub).
type Publisher interface {
	Publish(cs []market.Candle) int
}

// page is the most changes read at a time.
const page = 1000

// Tail publishes a log's changes.
type Tail struct {
	log   Log
	pub   Publisher
	after int64
	every time.Duration
	l     *slog.Logger
}

// New returns a tail of log that publishes to pub every change after
// sequence number after, reading every `every` while nothing is new.
func New(log Log, pub Publisher, after int64, every time.Duration, l *slog.Logger) *Tail {
	return &Tail{log: log, pub: pub, after: after, every: every, l: l}
}

// Run publishes the changes until ctx ends; then it publishes what the log
// holds by then (the node's own last writes), within a second, and
// returns.
func (t *Tail) Run(ctx context.Context) error {
	last := t.after
	for ctx.Err() == nil {
		n := t.drain(ctx, &last)
		if n < page {
			select {
			case <-ctx.Done():
			case <-time.After(t.every):
			}
		}
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	for t.drain(fctx, &last) == page {
	}
	return nil
}

// drain publishes one page after *last and moves *last; it returns how
// many changes it read.
func (t *Tail) drain(ctx context.Context, last *int64) int {
	cs, err := t.log.Changes(ctx, *last, page)
	if err != nil {
		if ctx.Err() == nil {
			t.l.Warn("cannot read the change log; retrying", "after", *last, "err", err)
		}
		return 0
	}
	if len(cs) > 0 {
		t.pub.Publish(cs)
		*last = cs[len(cs)-1].Seq
	}
	return len(cs)
}
