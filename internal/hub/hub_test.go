package hub

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

var (
	btc1m = Stream{Market: market.Default, Interval: market.I1m}
	xbt1m = Stream{Market: market.Market{Venue: "bitmex", Symbol: "XBTUSD"}, Interval: market.I1m}
)

// change is a stored candle change of bin open on stream st, with seq.
func change(st Stream, open, seq int64, closePx string) market.Candle {
	p := market.MustDecimal(closePx)
	return market.Candle{Market: st.Market, Interval: st.Interval, OpenTime: open, Open: p, High: p, Low: p, Close: p,
		State: market.Provisional, Rev: seq, Seq: seq}
}

// drain returns the seqs queued for s without waiting.
func drain(s *Sub) []int64 {
	var out []int64
	for {
		u, _ := s.TryNext()
		if u == nil {
			return out
		}
		out = append(out, u.Candle.Seq)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConflationKeepsOrderAndFinalState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		publish []market.Candle
		want    []int64
	}{
		{"distinct bins in order", []market.Candle{change(btc1m, 0, 1, "1"), change(btc1m, 60_000, 2, "1")}, []int64{1, 2}},
		{"forming bin conflated", []market.Candle{change(btc1m, 0, 1, "1"), change(btc1m, 0, 2, "2"), change(btc1m, 0, 3, "3")}, []int64{3}},
		{"a newer version moves to the end", []market.Candle{change(btc1m, 0, 1, "1"), change(btc1m, 60_000, 2, "1"), change(btc1m, 0, 3, "2")}, []int64{2, 3}},
		{"other streams are not delivered", []market.Candle{change(xbt1m, 0, 1, "1"), change(btc1m, 0, 2, "1")}, []int64{2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Hub
			s := h.Subscribe(btc1m)
			h.Publish(c.publish)
			if got := drain(s); !equal(got, c.want) {
				t.Fatalf("delivered seqs %v, want %v", got, c.want)
			}
		})
	}
}

func TestSlowSubscriberIsEndedOthersContinue(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{QueueMessages: 2}, {QueueBytes: 300}} {
		h := New(cfg)
		slow, other := h.Subscribe(btc1m), h.Subscribe(xbt1m)
		var batch []market.Candle
		for i := range int64(3) {
			batch = append(batch, change(btc1m, i*60_000, i+1, "64321.57"))
		}
		batch = append(batch, change(xbt1m, 0, 4, "1"))
		if n := h.Publish(batch); n != 1 {
			t.Fatalf("%+v: %d subscribers ended as slow, want 1", cfg, n)
		}
		if _, err := slow.Next(context.Background()); !errors.Is(err, ErrSlow) {
			t.Fatalf("%+v: slow subscriber got %v, want ErrSlow at once", cfg, err)
		}
		if got := drain(other); !equal(got, []int64{4}) {
			t.Fatalf("%+v: the other subscriber got %v", cfg, got)
		}
		h.Publish([]market.Candle{change(xbt1m, 60_000, 5, "1")})
		if got := drain(other); !equal(got, []int64{5}) || other.Err() != nil {
			t.Fatalf("%+v: the other subscriber stopped: %v %v", cfg, got, other.Err())
		}
	}
}

func TestStalledReaderOfAConflatedStreamStaysSmall(t *testing.T) {
	t.Parallel()
	var h Hub
	s := h.Subscribe(btc1m)
	for i := range int64(100_000) {
		h.Publish([]market.Candle{change(btc1m, 0, i+1, "1")})
	}
	s.mu.Lock()
	size, live := len(s.queue), s.live
	s.mu.Unlock()
	if live != 1 || size > 128 {
		t.Fatalf("after 100k updates of one bin: %d live in a slice of %d", live, size)
	}
	if got := drain(s); !equal(got, []int64{100_000}) {
		t.Fatalf("delivered %v", got)
	}
}

func TestCloseDeliversQueuedThenEnds(t *testing.T) {
	t.Parallel()
	var h Hub
	s := h.SubscribeAll()
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1")})
	h.Close()
	ctx := context.Background()
	if u, err := s.Next(ctx); err != nil || u.Candle.Seq != 1 {
		t.Fatalf("queued update lost on close: %v, %v", u, err)
	}
	if _, err := s.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := h.Subscribe(btc1m).Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscribing to a closed hub: %v", err)
	}
}

func TestAddRemoveStreams(t *testing.T) {
	t.Parallel()
	var h Hub
	s := h.Subscribe(btc1m)
	s.Add(xbt1m)
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1"), change(xbt1m, 0, 2, "1")})
	s.Remove(btc1m)
	h.Publish([]market.Candle{change(btc1m, 60_000, 3, "1"), change(xbt1m, 60_000, 4, "1")})
	if got := drain(s); !equal(got, []int64{1, 2, 4}) {
		t.Fatalf("delivered %v", got)
	}
	if st := s.Streams(); len(st) != 1 || st[0] != xbt1m {
		t.Fatalf("streams %v", st)
	}
	s.Close()
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrEnded) {
		t.Fatal(err)
	}
}

// TestFollowsAStreamOnce: a stream added twice is followed once, and the
// hub lets go of what its subscribers ended.
func TestFollowsAStreamOnce(t *testing.T) {
	t.Parallel()
	var h Hub
	s := h.Subscribe(btc1m, btc1m)
	s.Add(btc1m, xbt1m)
	every := h.SubscribeAll()
	every.Add(btc1m)
	h.mu.RLock()
	n := h.streams[btc1m].n
	h.mu.RUnlock()
	if n != 1 {
		t.Fatalf("%d subscribers of %v listed, want 1", n, btc1m)
	}
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1"), change(btc1m, 60_000, 2, "1")})
	for _, sub := range []*Sub{s, every} {
		if got := drain(sub); !equal(got, []int64{1, 2}) {
			t.Fatalf("delivered %v, want each change once", got)
		}
	}
	if st := s.Streams(); len(st) != 2 || st[0] != btc1m || st[1] != xbt1m {
		t.Fatalf("streams %v, want %v once each", st, []Stream{btc1m, xbt1m})
	}
	s.Remove(btc1m)
	h.Publish([]market.Candle{change(btc1m, 120_000, 3, "1")})
	if got := drain(s); len(got) != 0 {
		t.Fatalf("delivered %v after the stream was removed", got)
	}
	s.Close()
	every.Close()
	h.mu.RLock()
	streams, all := len(h.streams), h.all.n
	h.mu.RUnlock()
	if streams != 0 || all != 0 {
		t.Fatalf("the hub holds %d streams and %d subscribers of every stream, want none", streams, all)
	}
}

// TestConcurrentDeliveryInOrder publishes from one goroutine while many
// subscribers read: each sees strictly increasing sequence numbers ending
// with the last.
func TestConcurrentDeliveryInOrder(t *testing.T) {
	t.Parallel()
	var h Hub
	const subs, changes = 20, 2000
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	for range subs {
		s := h.Subscribe(btc1m)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			last := int64(0)
			for last < changes {
				u, err := s.Next(ctx)
				if err != nil {
					errs <- err
					return
				}
				if u.Candle.Seq <= last {
					errs <- errors.New("out of order")
					return
				}
				last = u.Candle.Seq
			}
		}()
	}
	for i := range int64(changes) {
		h.Publish([]market.Candle{change(btc1m, i%7*60_000, i+1, "1")})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestSharedOneEncoding: concurrent subscribers of a transport all get
// the same encoding (one kept, even when first calls race).
func TestSharedOneEncoding(t *testing.T) {
	u := NewUpdate(change(btc1m, 0, 1, "1"))
	got := make([][]byte, 32)
	var wg sync.WaitGroup
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []string{"ws", "sse"}[g%2]
			got[g] = u.Shared(key, func(u *Update) []byte { return append([]byte(key+":"), u.JSON...) })
		}()
	}
	wg.Wait()
	for g, b := range got {
		key := []string{"ws", "sse"}[g%2]
		if !strings.HasPrefix(string(b), key+":") || &b[0] != &got[g%2][0] {
			t.Fatalf("caller %d (%s) got %q, not the one shared encoding", g, key, b)
		}
	}
}

// scheduleFunc is a Scheduler that calls itself.
type scheduleFunc func()

func (f scheduleFunc) Schedule() { f() }

// TestOnReady: the callback runs for each queued update and at the end,
// in place of Ready.
func TestOnReady(t *testing.T) {
	h := New(Config{})
	s := h.Subscribe()
	calls := 0
	s.OnReady(scheduleFunc(func() { calls++ }))
	s.Add(btc1m)
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1"), change(xbt1m, 0, 2, "1"), change(btc1m, 60_000, 3, "1")})
	if calls != 2 {
		t.Fatalf("%d calls after two updates of its stream, want 2", calls)
	}
	select {
	case <-s.Ready():
		t.Fatal("Ready was signalled for a subscriber driven by OnReady")
	default:
	}
	if u, err := s.TryNext(); u == nil || err != nil {
		t.Fatalf("TryNext: %v, %v", u, err)
	}
	h.Close()
	if calls != 3 {
		t.Fatalf("%d calls after the hub closed, want 3", calls)
	}
}

// TestConflationLongQueue conflates in a queue long enough to be indexed.
func TestConflationLongQueue(t *testing.T) {
	h := New(Config{})
	s := h.Subscribe(btc1m)
	defer s.Close()
	var want []int64
	seq := int64(0)
	for bin := range int64(3 * shortQueue) {
		seq++
		h.Publish([]market.Candle{change(btc1m, bin*60_000, seq, "1")})
	}
	for bin := range int64(3 * shortQueue) { // a second revision of each: it replaces the first, in place at the end
		seq++
		h.Publish([]market.Candle{change(btc1m, bin*60_000, seq, "2")})
		want = append(want, seq)
	}
	if got := drain(s); !equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	seq++
	h.Publish([]market.Candle{change(btc1m, 0, seq, "3")}) // short again after draining
	if got := drain(s); !equal(got, []int64{seq}) {
		t.Fatalf("after draining: %v", got)
	}
}

// TestRunClosesWhenStopped: the hub as a component serves until its
// context ends, then closes, and every subscriber hears ErrClosed.
func TestRunClosesWhenStopped(t *testing.T) {
	h := New(Config{})
	s := h.Subscribe(btc1m)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- h.Run(ctx) }()
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1")})
	if u, err := s.Next(context.Background()); err != nil || u.Candle.Seq != 1 {
		t.Fatalf("while running: %+v, %v", u, err)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Run returned: %v, want ErrClosed", err)
	}
}
