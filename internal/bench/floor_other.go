//go:build !linux

package bench

import (
	"errors"
	"time"
)

// Floor is the least a fan-out round can cost (measured on Linux only).
type Floor struct {
	Sockets int
	Writes  int64
	CPU     time.Duration
	Wall    time.Duration
}

// Per1000 is the CPU of 1,000 writes.
func (f Floor) Per1000() time.Duration { return 0 }

// MeasureFloor is not measured on this system.
func MeasureFloor(int, int, time.Duration) (Floor, error) {
	return Floor{}, errors.New("the write floor is measured on Linux only")
}

// MeasureLiveFloor is not measured on this system.
func MeasureLiveFloor(int, int, time.Duration, []int) (Floor, error) {
	return Floor{}, errors.New("the write floor is measured on Linux only")
}

// floorSockets are not opened on this system.
type floorSockets struct{ servers []int }

func openFloor(int) (*floorSockets, error) {
	return nil, errors.New("the write floor is measured on Linux only")
}

func (*floorSockets) close() {}

func (*floorSockets) measure(int, time.Duration, bool, []int) (Floor, error) {
	return Floor{}, errors.New("the write floor is measured on Linux only")
}
