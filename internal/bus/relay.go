package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/candlewire/candlewire/internal/market"
)

// Log is the store's change log, read in sequence order
// (postgres.Store).
type Log interface {
	Head(ctx context.Context) (int64, error)
	// Changes returns at most limit candles whose current revision was
	// stored after sequence number after, in sequence order.
	Changes(ctx context.Context, after int64, limit int) ([]market.Candle, error)
	Epoch() int64
}

// page is the most changes read from the log at a time.
const page = 1000

// Stream creates or updates the bus's stream, kept on replicas servers:
// changes of the last hour (the store keeps the rest), duplicates
// dropped for two minutes. A server that has no JetStream leader yet can
// hold the request until its context ends, so it is retried with a short
// timeout each until ctx ends.
func Stream(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, error) {
	cfg := jetstream.StreamConfig{Name: StreamName, Subjects: []string{subjectRoot + ".>"}, Storage: jetstream.FileStorage,
		Replicas: max(1, replicas), MaxAge: time.Hour, Duplicates: 2 * time.Minute, Discard: jetstream.DiscardOld,
		MaxMsgSize: MaxMessage}
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := js.CreateOrUpdateStream(cctx, cfg)
		cancel()
		if err == nil {
			return st, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("create the stream %s: %w", StreamName, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Relay publishes a change log on the bus.
type Relay struct {
	js    jetstream.JetStream
	log   Log
	every time.Duration
	l     *slog.Logger
	last  atomic.Int64 // the newest sequence number the bus acknowledged
}

// NewRelay returns a relay of log that reads it every `every` while
// nothing is new.
func NewRelay(js jetstream.JetStream, log Log, every time.Duration, l *slog.Logger) *Relay {
	return &Relay{js: js, log: log, every: every, l: l}
}

// Published is the newest sequence number the bus acknowledged (0 before
// the relay published).
func (r *Relay) Published() int64 { return r.last.Load() }

// Publish publishes the log until ctx ends (while the relay holds the
// lease: lease.Run's work). It resumes after the newest change on the
// bus, so a new holder goes on where the last stopped; on an empty bus,
// at the log's head.
func (r *Relay) Publish(ctx context.Context) {
	after, err := r.resume(ctx)
	for ctx.Err() == nil {
		if err != nil {
			r.l.Warn("relay: cannot go on; retrying", "after", after, "err", err)
			sleep(ctx, time.Second)
			after, err = r.resume(ctx)
			continue
		}
		var cs []market.Candle
		if cs, err = r.log.Changes(ctx, after, page); err != nil {
			continue
		}
		var done int64
		done, err = r.publish(ctx, cs, after)
		after = done
		if err == nil && len(cs) < page {
			sleep(ctx, r.every)
		}
	}
}

// resume finds where to start: after the newest change on the bus, or
// at the log's head when the bus has none.
func (r *Relay) resume(ctx context.Context) (int64, error) {
	st, err := r.js.Stream(ctx, StreamName)
	if err != nil {
		return 0, fmt.Errorf("open the stream: %w", err)
	}
	m, err := st.GetLastMsgForSubject(ctx, subjectRoot+".>")
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return r.log.Head(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("read the newest change on the bus: %w", err)
	}
	seq, err := strconv.ParseInt(m.Header.Get(hdrSeq), 10, 64)
	if err != nil {
		return r.log.Head(ctx) // not ours; start afresh
	}
	r.last.Store(seq)
	return seq, nil
}

// publish sends cs, each after the one before (the first after prev),
// without waiting for each acknowledgement, then waits for them. It
// returns the newest sequence number up to which every change was
// acknowledged: the next page starts there, and the changes sent again
// are dropped by the bus as duplicates.
func (r *Relay) publish(ctx context.Context, cs []market.Candle, prev int64) (int64, error) {
	epoch := r.log.Epoch()
	futures := make([]jetstream.PubAckFuture, 0, len(cs))
	var sendErr error
	for i, c := range cs {
		p := prev
		if i > 0 {
			p = cs[i-1].Seq
		}
		m, err := encode(change{candle: c, seq: c.Seq, prev: p}, epoch)
		var f jetstream.PubAckFuture
		if err == nil {
			f, err = r.js.PublishMsgAsync(m)
		}
		if err != nil {
			sendErr = fmt.Errorf("send change %d: %w", c.Seq, err)
			break
		}
		futures = append(futures, f)
	}
	done := prev
	for i, f := range futures {
		select {
		case <-f.Ok():
			done = cs[i].Seq
			r.last.Store(done)
		case err := <-f.Err():
			return done, fmt.Errorf("publish change %d: %w", cs[i].Seq, err)
		case <-ctx.Done():
			return done, ctx.Err()
		}
	}
	return done, sendErr
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
