package cluster

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/bus/natstest"
	"github.com/candlewire/candlewire/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.Lingering()...) }

// TestMembersThroughARestart: two collectors and an observer (a gateway)
// see the same members, drained or not, before and after the whole NATS
// cluster restarts; a collector that stops leaves at once.
func TestMembersThroughARestart(t *testing.T) {
	cl := natstest.Start(t, 3)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	markets := manyMarkets(12)
	conn := func(node string) *Conn {
		c, err := Connect(ctx, config.Cluster{NATS: []string{cl.URLs()}, Node: node, Replicas: 3}, 10*time.Second, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	var ms []*Membership
	var stops []func()
	for i, node := range []string{"c1", "c2", "g1"} {
		newM := NewMembership
		if i == 2 {
			newM = NewObserver
		}
		m := newM(conn(node), markets, nil, quiet)
		if err := m.Join(ctx); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); m.Run(rctx) }() //nolint:errcheck // returns nil
		ms, stops = append(ms, m), append(stops, func() { cancel(); <-done })
	}
	defer func() {
		for _, stop := range stops[1:] {
			stop()
		}
	}()
	see := func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for _, m := range ms[1:] {
			for !slices.Equal(m.Status().Members, want) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %s sees %v, want %v", what, m.conn.Node, m.Status().Members, want)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	see("at start", "c1", "c2")
	for i := range 3 {
		cl.Stop(i)
	}
	for i := range 3 {
		cl.Start(i)
	}
	see("after the restart", "c1", "c2")
	if o, s := ms[2].Owner(markets[0]); o == "" || s == "" || o == s {
		t.Fatalf("the observer: %s owned by %q, standby %q", markets[0], o, s)
	}
	stops[0]()
	see("after c1 left", "c2")
}

// slowKV is a bucket whose first puts wait out their context, as JetStream
// does while it elects leaders on a loaded machine; after them it holds
// what is put.
type slowKV struct {
	jetstream.KeyValue // (nil: only what beat uses is here)
	slow               int
	mu                 sync.Mutex
	puts               int
	keys               []string
}

func (k *slowKV) Bucket() string { return "test" }

func (k *slowKV) Put(ctx context.Context, key string, _ []byte) (uint64, error) {
	k.mu.Lock()
	k.puts++
	slow := k.puts <= k.slow
	k.mu.Unlock()
	if slow {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = append(k.keys, key)
	return uint64(k.puts), nil
}

func (k *slowKV) ListKeys(context.Context, ...jetstream.WatchOpt) (jetstream.KeyLister, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ch := make(chan string, len(k.keys))
	for _, key := range k.keys {
		ch <- key
	}
	close(ch)
	return keyList(ch), nil
}

type keyList chan string

func (l keyList) Keys() <-chan string { return l }
func (l keyList) Stop() error         { return nil }

// TestJoinOutlastsASlowBeat: a collector whose first beats time out (each
// has Beat) keeps trying within Join's context instead of failing (seen:
// a collector exited at start, "list the candlewire_members bucket:
// context deadline exceeded", while JetStream was slow under load).
func TestJoinOutlastsASlowBeat(t *testing.T) {
	m := NewMembership(&Conn{Node: "c1"}, manyMarkets(3), nil, slog.New(slog.DiscardHandler))
	members, drain := &slowKV{slow: 1}, &slowKV{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*Beat)
	defer cancel()
	if err := m.firstBeat(ctx, members, drain); err != nil {
		t.Fatalf("join after a slow beat: %v", err)
	}
	if got := m.Status().Members; !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("members %v after joining", got)
	}
	short, cancel2 := context.WithTimeout(context.Background(), Beat/2)
	defer cancel2()
	if err := m.firstBeat(short, &slowKV{slow: 1 << 30}, drain); err == nil {
		t.Fatal("joined while every put timed out")
	}
}
