package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is one named lease in a bucket whose entries live for TTL unless
// renewed.
type Lease struct {
	kv     jetstream.KeyValue
	key    string
	holder string
	ttl    time.Duration
	log    *slog.Logger
	held   atomic.Bool
}

// Bucket creates or opens the key-value bucket of leases, whose entries
// expire after ttl unless renewed, kept on replicas servers.
func Bucket(ctx context.Context, js jetstream.JetStream, name string, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, TTL: ttl, History: 1,
		Replicas: max(1, replicas), Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("create the lease bucket %s: %w", name, err)
	}
	return kv, nil
}

// New returns the lease key of kv, to be held by holder; ttl is kv's.
func New(kv jetstream.KeyValue, key, holder string, ttl time.Duration, log *slog.Logger) *Lease {
	return &Lease{kv: kv, key: key, holder: holder, ttl: ttl, log: log}
}

// Held reports whether this holder holds the lease now.
func (l *Lease) Held() bool { return l.held.Load() }

// Holder returns who holds the lease, "" when nobody does.
func (l *Lease) Holder(ctx context.Context) (string, error) {
	e, err := l.kv.Get(ctx, l.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the %s lease: %w", l.key, err)
	}
	return string(e.Value()), nil
}

// Run holds the lease whenever it can until ctx ends: each time it takes
// it, it calls work with a context that ends when the lease is lost (a
// renewal failed: another may hold it a TTL later) or ctx ends, and
// renews the lease every third of the TTL while work runs. When work
// returns, the lease is given up.
func (l *Lease) Run(ctx context.Context, work func(ctx context.Context)) error {
	for ctx.Err() == nil {
		rev, err := l.kv.Create(ctx, l.key, []byte(l.holder))
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
				l.log.Warn("cannot take the lease; retrying", "lease", l.key, "err", err)
			}
			sleep(ctx, l.ttl/3)
			continue
		}
		l.log.Info("took the lease", "lease", l.key, "holder", l.holder)
		l.hold(ctx, rev, work)
	}
	return nil
}

// hold runs work while renewing the lease taken at rev.
func (l *Lease) hold(ctx context.Context, rev uint64, work func(ctx context.Context)) {
	wctx, lost := context.WithCancel(ctx)
	defer lost()
	l.held.Store(true)
	defer l.held.Store(false)
	done := make(chan struct{})
	go func() { defer close(done); work(wctx) }()
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			l.release(rev)
			return
		case <-t.C:
			next, err := l.kv.Update(wctx, l.key, []byte(l.holder), rev)
			if err != nil {
				if ctx.Err() == nil {
					l.log.Warn("lost the lease", "lease", l.key, "err", err)
				}
				lost()
				<-done
				return
			}
			rev = next
		}
	}
}

// release gives the lease up at once, so another takes it without
// waiting for the TTL.
func (l *Lease) release(rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(rev)); err != nil {
		l.log.Debug("could not give the lease up; it expires", "lease", l.key, "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
