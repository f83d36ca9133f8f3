package cluster

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

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
