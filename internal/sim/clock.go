package sim

import (
	"sync"
	"time"
)

// Clock is simulated exchange time: it starts at Start and runs Speed
// simulated seconds per real second.
type Clock struct {
	start     int64 // simulated ms at realStart
	realStart time.Time
	speed     float64
	mu        sync.Mutex
	offset    int64 // simulated ms added by Skip
}

// NewClock starts a clock at start (UTC ms) running speed times real time.
func NewClock(start int64, speed float64) *Clock {
	if speed <= 0 {
		speed = 1
	}
	return &Clock{start: start, realStart: time.Now(), speed: speed}
}

// Now is the simulated time in UTC ms.
func (c *Clock) Now() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start + c.offset + int64(float64(time.Since(c.realStart).Milliseconds())*c.speed)
}

// Speed is simulated seconds per real second.
func (c *Clock) Speed() float64 { return c.speed }

// Real converts a simulated duration to real time (at least 1ms).
func (c *Clock) Real(sim time.Duration) time.Duration {
	return max(time.Duration(float64(sim)/c.speed), time.Millisecond)
}

// Skip jumps simulated time forward by d.
func (c *Clock) Skip(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d.Milliseconds()
}
