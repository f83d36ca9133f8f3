//go:build !linux

package bench

import (
	"errors"
	"time"
)

// floorSockets are not opened on this system.
type floorSockets struct{ servers []int }

func openFloor(int) (*floorSockets, error) {
	return nil, errors.New("the write floor is measured on Linux only")
}

func (*floorSockets) close() {}

func (*floorSockets) measure(int, time.Duration, bool, []int) (Floor, error) {
	return Floor{}, errors.New("the write floor is measured on Linux only")
}
