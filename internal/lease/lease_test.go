package lease

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/bus/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.Lingering()...) }

// TestOneHolderAtATime: three candidates run for one lease; at most one
// works at any moment, and when the holder stops, another takes the lease
// (at once, since the holder gives it up); Holder names who holds it.
func TestOneHolderAtATime(t *testing.T) {
	cl := natstest.Start(t, 1)
	nc, err := nats.Connect(cl.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ttl := 900 * time.Millisecond
	kv, err := Bucket(ctx, js, "cw_leases", ttl, 1)
	if err != nil {
		t.Fatal(err)
	}
	var working, most atomic.Int32
	var holders sync.Map // name → *Lease
	stops := map[string]func(){}
	for _, name := range []string{"a", "b", "c"} {
		l := New(kv, "relay", name, ttl, slog.New(slog.DiscardHandler))
		holders.Store(name, l)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.Run(cctx, func(wctx context.Context) { //nolint:errcheck // returns nil
				n := working.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-wctx.Done()
				working.Add(-1)
			})
		}()
		stops[name] = func() { cancel(); <-done }
	}
	holder := func() string {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			h, err := New(kv, "relay", "", ttl, nil).Holder(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if l, ok := holders.Load(h); ok && l.(*Lease).Held() {
				return h
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("nobody holds the lease")
		return ""
	}
	first := holder()
	time.Sleep(3 * ttl) // renewals keep it
	if again := holder(); again != first {
		t.Fatalf("the lease moved from %s to %s while %s renewed it", first, again, first)
	}
	stops[first]()
	second := holder()
	if second == first {
		t.Fatalf("%s still holds the lease after it stopped", first)
	}
	for name, stop := range stops {
		if name != first {
			stop()
		}
	}
	if most.Load() != 1 {
		t.Fatalf("%d candidates worked at once", most.Load())
	}
}
