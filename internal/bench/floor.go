package bench

import "time"

// Floor is the least a fan-out round can cost on this machine: one frame
// written with the bare write system call to each of Sockets loopback TCP
// sockets, by as many threads as GOMAXPROCS, with no WebSocket and no hub.
// In the plain floor nothing reads the receiving ends while the frames are
// written (they are in no epoll set and are drained between rounds,
// outside the measurement). In the live floor reader threads wait on them
// in epoll sets and read each frame as it comes, as the benchmark's
// clients do: the writer is then charged what the kernel does for a live
// reader (its side of the segment, run inline on loopback, and its
// wake-up).
type Floor struct {
	Sockets int
	Writes  int64
	CPU     time.Duration // the writing threads' own CPU time
	Wall    time.Duration // of the rounds, summed
}

// Per1000 is the CPU of 1,000 writes.
func (f Floor) Per1000() time.Duration {
	if f.Writes == 0 {
		return 0
	}
	return time.Duration(float64(f.CPU) / float64(f.Writes) * 1000)
}

// add sums g into f, a floor measured in several samples on the same
// sockets.
func (f *Floor) add(g Floor) {
	f.Sockets = g.Sockets
	f.Writes += g.Writes
	f.CPU += g.CPU
	f.Wall += g.Wall
}

// MeasureFloor opens sockets loopback connections (fewer when the
// descriptor limit is lower) and writes a frame of size bytes to each,
// round after round, for at least d, with nothing reading them.
func MeasureFloor(sockets, size int, d time.Duration) (Floor, error) {
	return measureFloor(sockets, size, d, false, nil)
}

// MeasureLiveFloor is MeasureFloor with the receiving ends read as the
// frames arrive, by reader threads on readerCPUs (none: anywhere) whose
// CPU is not counted.
func MeasureLiveFloor(sockets, size int, d time.Duration, readerCPUs []int) (Floor, error) {
	return measureFloor(sockets, size, d, true, readerCPUs)
}

// measureFloor is the live floor when live is set (readers on readerCPUs),
// the plain one otherwise, on sockets opened for it.
func measureFloor(sockets, size int, d time.Duration, live bool, readerCPUs []int) (Floor, error) {
	fs, err := openFloor(sockets)
	if err != nil {
		return Floor{}, err
	}
	defer fs.close()
	return fs.measure(size, d, live, readerCPUs)
}
