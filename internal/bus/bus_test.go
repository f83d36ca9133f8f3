package bus

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/bus/natstest"
	"github.com/candlewire/candlewire/internal/lease"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.Lingering()...) }

var quiet = slog.New(slog.DiscardHandler)

// connect is a JetStream client of the cluster, closed when the test ends.
func connect(t *testing.T, c *natstest.Cluster) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(c.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// relayUnderLease runs a relay of log as holder of the cluster's relay
// lease until the returned stop is called.
func relayUnderLease(t *testing.T, js jetstream.JetStream, log Log, holder string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	kv, err := lease.Bucket(ctx, js, "cw_test_leases", 2*time.Second, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRelay(js, log, 10*time.Millisecond, quiet)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lease.New(kv, "relay", holder, 2*time.Second, quiet).Run(ctx, r.Publish) //nolint:errcheck // returns nil
	}()
	return func() { cancel(); <-done }
}

// TestBusDeliversEveryChangeInOrder: two PostgreSQL writers store changes
// while two relays, one at a time under the lease, publish the change log
// on a 3-node JetStream cluster, and a gateway's feed delivers it. Through
// the lease holder's stop, a JetStream node's stop and start, and the
// whole cluster's restart, the feed delivers every change after its start
// once, in sequence order, and its last version of each bin is the stored
// one; most came over the bus.
func TestBusDeliversEveryChangeInOrder(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Fresh(t)
	var stores []*postgres.Store
	for range 3 {
		s, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	cl := natstest.Start(t, 3)
	js := connect(t, cl)
	if _, err := Stream(ctx, js, 3); err != nil {
		t.Fatal(err)
	}
	head, err := stores[2].Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rec storetest.Recorder
	feed := NewFeed(connect(t, cl), stores[2], &rec, head, time.Second, quiet)
	fctx, stopFeed := context.WithCancel(ctx)
	fdone := make(chan struct{})
	go func() { defer close(fdone); feed.Run(fctx) }() //nolint:errcheck // returns nil
	stopA := relayUnderLease(t, connect(t, cl), stores[0], "a")
	stopB := relayUnderLease(t, connect(t, cl), stores[1], "b")
	defer stopB()

	faults := []func(){
		stopA, // whoever held the lease, a stops: b holds it within the TTL
		func() { cl.Stop(1); time.Sleep(time.Second); cl.Start(1) },
		func() {
			for i := range 3 {
				cl.Stop(i)
			}
			for i := range 3 {
				cl.Start(i)
			}
		},
	}
	var wg sync.WaitGroup
	for i, w := range stores[:2] {
		wg.Add(1)
		go func() { defer wg.Done(); write(ctx, t, w, uint64(i), 40*len(faults)) }()
	}
	for _, fault := range faults {
		time.Sleep(1500 * time.Millisecond)
		fault()
	}
	wg.Wait()
	want, err := stores[2].Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for newest(&rec) < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stopFeed()
	<-fdone
	check(t, stores[2], head, &rec)
	st := feed.Stats()
	t.Logf("from the bus %d, from the log %d, holes %d, dropped %d", st.FromBus.Load(), st.FromLog.Load(), st.Holes.Load(), st.Dropped.Load())
	if st.FromBus.Load() < st.FromLog.Load() {
		t.Errorf("most changes came from the log (%d), not the bus (%d)", st.FromLog.Load(), st.FromBus.Load())
	}
}

// check compares what rec got after head with the log.
func check(t *testing.T, log Log, head int64, rec *storetest.Recorder) {
	t.Helper()
	all, err := log.Changes(context.Background(), head, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Delivered(t, rec.Got(), all)
}

// write stores rounds batches of random versions of random bins, a batch
// every 25 ms.
func write(ctx context.Context, t *testing.T, s *postgres.Store, seed uint64, rounds int) {
	r := rand.New(rand.NewPCG(seed, 9))
	for range rounds {
		var batch []market.Candle
		for range 1 + r.IntN(20) {
			p := market.MustDecimal(fmt.Sprint(100 + r.IntN(5)))
			batch = append(batch, market.Candle{Market: market.Market{Venue: "v", Symbol: fmt.Sprintf("S%d", r.IntN(6))},
				Interval: market.I5m, OpenTime: int64(r.IntN(30)) * 300_000, Open: p, High: p, Low: p, Close: p,
				Volume: market.Zero, Quote: market.Zero, State: market.State(1 + r.IntN(3)), Source: market.SourceTrades})
		}
		if _, err := s.Upsert(ctx, batch); err != nil {
			t.Error(err)
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// newest is the sequence number rec got last (0 for none).
func newest(rec *storetest.Recorder) int64 {
	got := rec.Got()
	if len(got) == 0 {
		return 0
	}
	return got[len(got)-1].Seq
}
