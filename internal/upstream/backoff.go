package upstream

import (
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with full jitter: the n-th consecutive
// failure waits a uniformly random time in [0, min(Max, Base·2ⁿ)).
type Backoff struct {
	Base time.Duration // first ceiling; 0 means 500ms
	Max  time.Duration // largest ceiling; 0 means 60s
	// Rand returns a value in [0, n); nil means math/rand/v2.
	Rand func(n int64) int64
}

// Delay returns the wait before retry number attempt (0-based).
func (b Backoff) Delay(attempt int) time.Duration {
	base, maxd := b.Base, b.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if maxd <= 0 {
		maxd = 60 * time.Second
	}
	ceiling := maxd
	if attempt < 32 && base<<attempt < maxd && base<<attempt > 0 {
		ceiling = base << attempt
	}
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	return time.Duration(rnd(int64(ceiling)))
}
