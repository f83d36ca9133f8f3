package collector

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
)

// flakyStore fails Upserts while broken is set.
type flakyStore struct {
	*store.Memory
	broken bool
}

func (f *flakyStore) Upsert(ctx context.Context, cs []market.Candle) (store.Result, error) {
	if f.broken {
		return store.Result{}, errors.New("disk on fire")
	}
	return f.Memory.Upsert(ctx, cs)
}

func bin(open int64, px string, st market.State) market.Candle {
	p := market.MustDecimal(px)
	return market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: open, Open: p, High: p, Low: p, Close: p, State: st}
}

func TestWriterConflatesAndKeepsBatchesOnFailure(t *testing.T) {
	st := &flakyStore{Memory: store.NewMemory(nil), broken: true}
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), time.Hour)
	w.Put(bin(0, "1", market.Provisional), bin(0, "2", market.Provisional), bin(60_000, "5", market.Reconciled))
	w.Put(bin(60_000, "6", market.Closed)) // earlier in the lifecycle than the queued version: ignored
	if err := w.Flush(context.Background()); err == nil {
		t.Fatal("flush into a broken store succeeded")
	}
	st.broken = false
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Candles(context.Background(), market.Default, market.I1m, 0, 1e12)
	if len(got) != 2 || got[0].Close.String() != "2" || got[0].Rev != 1 || got[1].Close.String() != "5" {
		t.Fatalf("stored %+v; want the latest version of each bin, once", got)
	}
}

func TestWriterPutDoesNotBlockWhenDraining(t *testing.T) {
	st := &flakyStore{Memory: store.NewMemory(nil), broken: true}
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), time.Hour)
	w.maxPending = 1
	w.Put(bin(0, "1", market.Provisional))
	done := make(chan struct{})
	go func() { w.Put(bin(60_000, "1", market.Provisional)); close(done) }()
	select {
	case <-done:
		t.Fatal("Put did not apply backpressure on a full queue")
	case <-time.After(50 * time.Millisecond):
	}
	w.drain()
	<-done
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestMissing(t *testing.T) {
	t.Parallel()
	const m = 60_000
	rec := func(ts ...int64) (out []market.Candle) {
		for _, x := range ts {
			out = append(out, bin(x*m, "1", market.Reconciled))
		}
		return out
	}
	closed := bin(3*m, "1", market.Closed)
	cases := []struct {
		name string
		rows []market.Candle
		want [][2]int64
	}{
		{"none stored", nil, [][2]int64{{0, 6 * m}}},
		{"all reconciled", rec(0, 1, 2, 3, 4, 5), nil},
		{"two runs", rec(0, 2, 3, 5), [][2]int64{{1 * m, 2 * m}, {4 * m, 5 * m}}},
		{"closed is not enough", append(rec(0, 1, 2, 4, 5), closed), [][2]int64{{3 * m, 4 * m}}},
		{"tail", rec(0, 1), [][2]int64{{2 * m, 6 * m}}},
	}
	for _, c := range cases {
		got := Missing(c.rows, 0, 6*m)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
}
