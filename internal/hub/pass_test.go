package hub

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// goPass runs each part on a goroutine of its own, after a random pause,
// so parts of one Publish end in any order; serve schedules, and is
// counted.
type goPass struct{ served atomic.Int64 }

func (p *goPass) Go(part func(serve func(Scheduler))) {
	pause := time.Duration(rand.IntN(200)) * time.Microsecond
	go func() {
		time.Sleep(pause)
		part(func(s Scheduler) { p.served.Add(1); s.Schedule() })
	}()
}

// TestPassKeepsEachSubscribersOrder: with the fan-out in parts that end in
// any order, every subscriber still gets every change of its streams, in
// sequence order, across streams and across Publishes of one or many
// changes.
func TestPassKeepsEachSubscribersOrder(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	h.SetPass(new(goPass))
	type follower struct {
		s       *Sub
		streams map[Stream]bool
	}
	var fs []follower
	for i := range 3 * parts {
		var streams []Stream
		switch i % 3 {
		case 0:
			streams = []Stream{btc1m}
		case 1:
			streams = []Stream{xbt1m}
		default:
			streams = []Stream{btc1m, xbt1m}
		}
		f := follower{h.Subscribe(streams...), map[Stream]bool{}}
		for _, st := range streams {
			f.streams[st] = true
		}
		fs = append(fs, f)
	}
	everything := h.SubscribeAll()
	var published []market.Candle
	seq := int64(0)
	for i := range 300 {
		var cs []market.Candle
		for range 1 + i%3 { // one, two or three changes a Publish
			seq++
			cs = append(cs, change([]Stream{btc1m, xbt1m}[rand.IntN(2)], seq*60_000, seq, "1")) // distinct bins: nothing conflates
		}
		published = append(published, cs...)
		h.Publish(cs)
	}
	h.Publish(nil) // waits for the parts of the last
	check := func(name string, s *Sub, follows func(Stream) bool) {
		var want []int64
		for _, c := range published {
			if follows(StreamOf(c)) {
				want = append(want, c.Seq)
			}
		}
		if got := drain(s); !equal(got, want) {
			t.Fatalf("%s got seqs %v, want %v", name, got, want)
		}
	}
	for i, f := range fs {
		check("subscriber "+string(rune('0'+i%3)), f.s, func(st Stream) bool { return f.streams[st] })
	}
	check("the subscriber of every stream", everything, func(Stream) bool { return true })
}

// TestPassServesTheWoken: a subscriber driven by a Scheduler is handed to
// the pass's serve for each update it gains; one driven by Ready is
// signalled as without a pass; one that unsubscribed gets nothing.
func TestPassServesTheWoken(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	p := new(goPass)
	h.SetPass(p)
	var calls atomic.Int64
	driven := h.Subscribe()
	driven.OnReady(scheduleFunc(func() { calls.Add(1) }))
	driven.Add(btc1m)
	plain, gone := h.Subscribe(btc1m), h.Subscribe(btc1m)
	gone.Remove(btc1m)
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1")})
	h.Publish([]market.Candle{change(btc1m, 60_000, 2, "1")})
	h.Publish([]market.Candle{change(btc1m, 120_000, 3, "1"), change(xbt1m, 0, 4, "1"), change(btc1m, 180_000, 5, "1")})
	h.Publish(nil)
	if p.served.Load() != 3 || calls.Load() != 3 {
		t.Fatalf("served %d times, scheduled %d, want 3 and 3 (once a Publish)", p.served.Load(), calls.Load())
	}
	select {
	case <-plain.Ready():
	default:
		t.Fatal("a subscriber without a Scheduler was not signalled")
	}
	if got := drain(plain); !equal(got, []int64{1, 2, 3, 5}) {
		t.Fatalf("plain subscriber got %v", got)
	}
	if got := drain(gone); len(got) != 0 {
		t.Fatalf("an unsubscribed subscriber got %v", got)
	}
}

// TestPassCountsSlow: a subscriber a part ends as slow is counted by a
// later Publish (the one that waits for that part); others go on.
func TestPassCountsSlow(t *testing.T) {
	t.Parallel()
	h := New(Config{QueueMessages: 2})
	h.SetPass(new(goPass))
	slow, other := h.Subscribe(btc1m), h.Subscribe(xbt1m)
	n := 0
	for i := range int64(3) {
		n += h.Publish([]market.Candle{change(btc1m, i*60_000, i+1, "1")})
	}
	n += h.Publish([]market.Candle{change(xbt1m, 0, 4, "1")})
	n += h.Publish(nil)
	if n != 1 || slow.Err() != ErrSlow {
		t.Fatalf("%d counted as slow, err %v; want 1 and ErrSlow", n, slow.Err())
	}
	if got := drain(other); !equal(got, []int64{4}) {
		t.Fatalf("the other subscriber got %v", got)
	}
}

// TestPassAgainstChurn publishes through a pass while subscribers come,
// change streams and go: nothing races (run with -race) and every
// subscriber that stayed gets what was published after it came, in order.
func TestPassAgainstChurn(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	h.SetPass(new(goPass))
	stay := h.Subscribe(btc1m)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.Subscribe(btc1m)
				s.Add(xbt1m)
				s.Remove(btc1m)
				s.Close()
			}
		}()
	}
	for i := range int64(500) {
		h.Publish([]market.Candle{change(btc1m, i*60_000, i+1, "1")})
	}
	close(stop)
	wg.Wait()
	h.Publish(nil)
	h.mu.RLock()
	lists := len(h.streams)
	h.mu.RUnlock()
	if lists != 1 {
		t.Errorf("part lists of %d streams kept, want 1: a stream nobody follows keeps none", lists)
	}
	got := drain(stay)
	if len(got) != 500 || got[0] != 1 || got[499] != 500 {
		t.Fatalf("the subscriber that stayed got %d changes (%v…)", len(got), got[:min(len(got), 5)])
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order at %d: %v", i, got[i-1:i+1])
		}
	}
}

// TestPassOnlyEveryStreamSubscribers: a change of a stream nobody follows
// by name reaches the subscribers of every stream.
func TestPassOnlyEveryStreamSubscribers(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	h.SetPass(new(goPass))
	all := h.SubscribeAll()
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1"), change(xbt1m, 0, 2, "1")})
	h.Publish(nil)
	if got := drain(all); !equal(got, []int64{1, 2}) {
		t.Fatalf("the subscriber of every stream got %v", got)
	}
}

// latePass runs each part on a goroutine of its own after a pause longer
// than a Publish and a Close take.
type latePass struct{}

func (latePass) Go(part func(serve func(Scheduler))) {
	go func() {
		time.Sleep(20 * time.Millisecond)
		part(func(s Scheduler) { s.Schedule() })
	}()
}

// TestCloseAfterParts: a change published just before the hub closes is
// still queued before the subscription ends, so the subscriber takes it
// before ErrClosed (a process that shuts down sends what it published).
func TestCloseAfterParts(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	h.SetPass(latePass{})
	s := h.Subscribe(btc1m)
	h.Publish([]market.Candle{change(btc1m, 0, 1, "1")})
	h.Close()
	if got := drain(s); !equal(got, []int64{1}) || s.Err() != ErrClosed {
		t.Fatalf("after Close: got %v, err %v; want [1] and ErrClosed", got, s.Err())
	}
}
