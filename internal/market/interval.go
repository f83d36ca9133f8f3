package market

import (
	"fmt"
	"strings"
	"time"
)

// Interval is a candle width. Only the intervals listed in Intervals exist.
type Interval string

// The supported candle intervals. 1m is collected; the others are rolled up
// from it.
const (
	I1m  Interval = "1m"
	I3m  Interval = "3m"
	I5m  Interval = "5m"
	I15m Interval = "15m"
	I30m Interval = "30m"
	I1h  Interval = "1h"
	I2h  Interval = "2h"
	I4h  Interval = "4h"
	I1d  Interval = "1d"
)

// Intervals lists every supported interval, finest first.
var Intervals = []Interval{I1m, I3m, I5m, I15m, I30m, I1h, I2h, I4h, I1d}

// rollupSource says which finer interval each coarser one is built from, so
// that every rebuild reads at most six rows.
var rollupSource = map[Interval]Interval{
	I3m: I1m, I5m: I1m, I15m: I5m, I30m: I15m, I1h: I30m, I2h: I1h, I4h: I2h, I1d: I4h,
}

// ParseInterval validates an interval name.
func ParseInterval(s string) (Interval, error) {
	if Interval(s).Millis() == 0 {
		return "", fmt.Errorf("unknown interval %q (want one of %v)", s, Intervals)
	}
	return Interval(s), nil
}

// ParseIntervals reads a comma-separated list of intervals; "all" is
// every interval.
func ParseIntervals(s string) ([]Interval, error) {
	if s == "all" {
		return Intervals, nil
	}
	var out []Interval
	for _, name := range strings.Split(s, ",") {
		iv, err := ParseInterval(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		out = append(out, iv)
	}
	return out, nil
}

// Millis is the interval's width in milliseconds, 0 for an interval that
// does not exist. A switch, not a map: every trade and every candle
// written asks it (Truncate, Validate).
func (i Interval) Millis() int64 {
	switch i {
	case I1m:
		return 60_000
	case I3m:
		return 180_000
	case I5m:
		return 300_000
	case I15m:
		return 900_000
	case I30m:
		return 1_800_000
	case I1h:
		return 3_600_000
	case I2h:
		return 7_200_000
	case I4h:
		return 14_400_000
	case I1d:
		return 86_400_000
	}
	return 0
}

// Duration is the interval's width.
func (i Interval) Duration() time.Duration { return time.Duration(i.Millis()) * time.Millisecond }

// Truncate returns the open time of the bin that contains t (UTC ms).
func (i Interval) Truncate(t int64) int64 {
	if i == I1m {
		return t - mod(t, 60_000) // a constant divisor: no division instruction
	}
	return t - mod(t, i.Millis())
}

// mod is t modulo m, in [0, m).
func mod(t, m int64) int64 {
	r := t % m
	if r < 0 {
		r += m
	}
	return r
}

// Source is the finer interval this one is rolled up from, and false for 1m.
func (i Interval) Source() (Interval, bool) {
	s, ok := rollupSource[i]
	return s, ok
}

// Parents lists the intervals directly rolled up from i.
func (i Interval) Parents() []Interval {
	var out []Interval
	for _, p := range Intervals {
		if rollupSource[p] == i {
			out = append(out, p)
		}
	}
	return out
}
