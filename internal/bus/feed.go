package bus

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/candlewire/candlewire/internal/market"
)

// Publisher receives the changes in sequence order (hub.Hub).
type Publisher interface {
	Publish(cs []market.Candle) int
}

// Feed delivers the bus to a gateway's hub, each change once and in
// sequence order, reading from the log what the bus did not bring.
type Feed struct {
	js    jetstream.JetStream // nil: the log alone
	log   Log
	pub   Publisher
	last  int64 // the newest sequence number delivered
	every time.Duration
	l     *slog.Logger
	stats FeedStats
}

// FeedStats count where a feed's changes came from.
type FeedStats struct {
	FromBus, FromLog atomic.Int64 // changes delivered from each
	Holes            atomic.Int64 // times the bus skipped changes, read from the log
	Dropped          atomic.Int64 // bus messages dropped behind a full queue (read from the log instead)
	Bad              atomic.Int64 // messages that were not changes (skipped)
}

// NewFeed returns a feed that delivers to pub every change after sequence
// number after; it reads the log every `every` besides (the changes of a
// bus that is down), and at once when the bus skipped some.
func NewFeed(js jetstream.JetStream, log Log, pub Publisher, after int64, every time.Duration, l *slog.Logger) *Feed {
	return &Feed{js: js, log: log, pub: pub, last: after, every: every, l: l}
}

// Stats are the feed's counts.
func (f *Feed) Stats() *FeedStats { return &f.stats }

// queue bounds the bus messages waiting for delivery.
const queue = 4096

// Run delivers until ctx ends, then what the log holds by then, within a
// second.
func (f *Feed) Run(ctx context.Context) error {
	msgs := make(chan change, queue)
	bctx, stopBus := context.WithCancel(ctx)
	busDone := make(chan struct{})
	go func() { defer close(busDone); f.listen(bctx, msgs) }()
	defer func() { stopBus(); <-busDone }()
	t := time.NewTicker(f.every)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case ch := <-msgs:
			f.take(ctx, ch)
		case <-t.C:
			f.catchUp(ctx, 0)
		case <-ctx.Done():
		}
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	f.catchUp(fctx, 0)
	return nil
}

// take delivers a change of the bus. The relay published it right after
// ch.prev: nothing stored between the two was current when it read, so
// when the feed delivered ch.prev or later, ch is next. Otherwise the bus
// skipped changes, and the log has them.
func (f *Feed) take(ctx context.Context, ch change) {
	switch {
	case ch.seq <= f.last: // delivered already (from the log, or a duplicate)
	case ch.prev <= f.last:
		f.pub.Publish([]market.Candle{ch.candle})
		f.last = ch.seq
		f.stats.FromBus.Add(1)
	default:
		f.stats.Holes.Add(1)
		f.catchUp(ctx, ch.seq)
	}
}

// catchUp delivers the log's changes after the last delivered, at least
// up to sequence number upTo (all there are, when the log is read
// regularly).
func (f *Feed) catchUp(ctx context.Context, upTo int64) {
	for ctx.Err() == nil {
		cs, err := f.log.Changes(ctx, f.last, page)
		if err != nil {
			if ctx.Err() == nil {
				f.l.Warn("cannot read the change log; retrying", "after", f.last, "err", err)
			}
			return
		}
		if len(cs) > 0 {
			f.pub.Publish(cs)
			f.last = cs[len(cs)-1].Seq
			f.stats.FromLog.Add(int64(len(cs)))
		}
		if len(cs) < page && f.last >= upTo {
			return
		}
	}
}

// listen puts the bus's new changes on msgs until ctx ends, subscribing
// again while the bus is away.
func (f *Feed) listen(ctx context.Context, msgs chan<- change) {
	if f.js == nil {
		return
	}
	for ctx.Err() == nil {
		if err := f.consume(ctx, msgs); err != nil && ctx.Err() == nil {
			f.l.Debug("bus subscription ended; subscribing again", "err", err)
			sleep(ctx, time.Second)
		}
	}
}

// consume reads the stream's new messages in order (an ordered consumer,
// which the client recreates after a disconnect) until ctx ends.
func (f *Feed) consume(ctx context.Context, msgs chan<- change) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	c, err := f.js.OrderedConsumer(cctx, StreamName, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	cancel()
	if err != nil {
		return err
	}
	it, err := c.Messages()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			return err
		}
		ch, err := decode(m.Headers(), m.Data())
		if err != nil {
			f.stats.Bad.Add(1)
			f.l.Warn("skipped a message of the bus", "subject", m.Subject(), "err", err)
			continue
		}
		select {
		case msgs <- ch:
		default:
			f.stats.Dropped.Add(1) // the gap it leaves is read from the log
		}
	}
}
