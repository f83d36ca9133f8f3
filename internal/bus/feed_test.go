package bus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// writer is one process's store, writing random versions of random bins.
type writer interface {
	Upsert(ctx context.Context, cs []market.Candle) (store.Result, error)
}

// TestFeedWithoutABusPublishesEveryChangeInOrder: with writers storing at
// once (two PostgreSQL pools, as two processes; or one memory store), a
// feed without a bus (a node alone on a shared store) of a third reader
// publishes every change after its start once, in sequence
// order, and what it published last of each bin is what is stored.
func TestFeedWithoutABusPublishesEveryChangeInOrder(t *testing.T) {
	cases := []struct {
		name string
		open func(t *testing.T) (Log, []writer)
	}{
		{"memory", func(t *testing.T) (Log, []writer) {
			m := store.NewMemory(nil)
			return m, []writer{m, m}
		}},
		{"postgres", func(t *testing.T) (Log, []writer) {
			dsn := pgtest.Fresh(t)
			var ws []writer
			var log Log
			for range 3 {
				s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				ws, log = append(ws, s), s
			}
			return log, ws[:2]
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			log, writers := c.open(t)
			head, err := log.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var rec storetest.Recorder
			tctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				NewFeed(nil, log, &rec, head, 5*time.Millisecond, quiet).Run(tctx) //nolint:errcheck // returns nil
			}()
			var wg sync.WaitGroup
			for i, w := range writers {
				wg.Add(1)
				go func() { defer wg.Done(); writeRandom(ctx, t, w, uint64(i)) }()
			}
			wg.Wait()
			stop() // the final drain publishes the last writes
			<-done
			all, err := log.Changes(ctx, head, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			storetest.Delivered(t, rec.Got(), all)
		})
	}
}

// writeRandom stores 60 batches of random versions of random bins.
func writeRandom(ctx context.Context, t *testing.T, w writer, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	for range 60 {
		var batch []market.Candle
		for range 1 + r.IntN(20) {
			p := market.MustDecimal(fmt.Sprint(100 + r.IntN(5)))
			batch = append(batch, market.Candle{Market: market.Market{Venue: "v", Symbol: fmt.Sprintf("S%d", r.IntN(6))},
				Interval: market.I5m, OpenTime: int64(r.IntN(6)) * 300_000, Open: p, High: p, Low: p, Close: p,
				Volume: market.Zero, Quote: market.Zero, State: market.State(1 + r.IntN(3)), Source: market.SourceTrades})
		}
		if _, err := w.Upsert(ctx, batch); err != nil {
			t.Error(err)
			return
		}
	}
}
