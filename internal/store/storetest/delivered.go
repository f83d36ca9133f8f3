package storetest

import (
	"sync"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

// Delivered checks what a follower of the change log delivered (got, in
// the order delivered) against the log's changes (stored): sequence
// numbers strictly increase, and the newest delivered version of every
// stored bin is the stored one.
func Delivered(t *testing.T, got, stored []market.Candle) {
	t.Helper()
	if len(stored) == 0 {
		t.Fatal("nothing stored to compare with")
	}
	newest := map[market.Key]market.Candle{}
	var prev int64
	for _, c := range got {
		if c.Seq <= prev {
			t.Fatalf("delivered seq %d after %d", c.Seq, prev)
		}
		prev = c.Seq
		newest[c.Key()] = c
	}
	for _, c := range stored {
		g := newest[c.Key()]
		if g.Seq != c.Seq || g.Rev != c.Rev || !g.Close.Equal(c.Close) || g.State != c.State {
			t.Errorf("%v: delivered last seq %d rev %d, stored seq %d rev %d", c.Key(), g.Seq, g.Rev, c.Seq, c.Rev)
		}
	}
}

// Recorder is a publisher (hub.Hub's Publish) that keeps what it was
// given, for Delivered.
type Recorder struct {
	mu  sync.Mutex
	got []market.Candle
}

// Publish keeps cs.
func (r *Recorder) Publish(cs []market.Candle) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, cs...)
	return 0
}

// Got returns what was published, in order.
func (r *Recorder) Got() []market.Candle {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]market.Candle(nil), r.got...)
}
