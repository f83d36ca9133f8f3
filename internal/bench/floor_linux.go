package bench

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/candlewire/candlewire/internal/wsconn"
)

// Floor is the least a fan-out round can cost on this machine: one frame
// written with the bare write system call to each of Sockets loopback TCP
// sockets, by as many threads as GOMAXPROCS, with no WebSocket, no hub and
// no reader (the receiving ends are in no epoll set; they are drained
// between rounds, outside the measurement).
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

// MeasureFloor opens sockets loopback connections (fewer when the
// descriptor limit is lower) and writes a frame of size bytes to each,
// round after round, for at least d.
func MeasureFloor(sockets, size int, d time.Duration) (Floor, error) {
	servers, clients, closeAll, err := floorPairs(sockets)
	if err != nil {
		return Floor{}, err
	}
	defer closeAll()
	frame := wsconn.AppendText(nil, make([]byte, max(size-2, 1)))
	f := Floor{Sockets: len(servers)}
	for f.Wall < d {
		start := time.Now()
		cpu, err := writeRound(servers, frame)
		if err != nil {
			return f, err
		}
		f.Wall += time.Since(start)
		f.CPU += cpu
		f.Writes += int64(len(servers))
		drainFDs(clients)
	}
	return f, nil
}

// writeRound writes frame to every server socket from GOMAXPROCS threads
// and returns their CPU time.
func writeRound(servers []int, frame []byte) (time.Duration, error) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total time.Duration
	var first error
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			var err error
			for i := w; i < len(servers) && err == nil; i += workers {
				_, err = syscall.Write(servers[i], frame)
			}
			cpu := threadCPU() - t0
			mu.Lock()
			total += cpu
			first = firstErr(first, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total, first
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// floorPairs opens up to n loopback TCP connections with raw system calls,
// as many as the descriptor limit leaves room for: the accepted ends
// (written to) and the dialled ends (drained).
func floorPairs(n int) (servers, clients []int, closeAll func(), err error) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		n = min(n, int(lim.Cur-256)/2)
	}
	var fds []int
	closeAll = func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}
	ln, sa, err := floorListener()
	if err != nil {
		return nil, nil, closeAll, err
	}
	fds = append(fds, ln)
	for range n {
		c, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if errors.Is(err, syscall.EMFILE) {
			break // as many as fit
		}
		if err != nil {
			return nil, nil, closeAll, fmt.Errorf("floor socket: %w", err)
		}
		fds = append(fds, c)
		if err := syscall.Connect(c, sa); err != nil {
			return nil, nil, closeAll, fmt.Errorf("floor connect: %w", err)
		}
		s, _, err := syscall.Accept4(ln, syscall.SOCK_CLOEXEC)
		if err != nil {
			return nil, nil, closeAll, fmt.Errorf("floor accept: %w", err)
		}
		fds = append(fds, s)
		syscall.SetsockoptInt(s, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1) //nolint:errcheck // as the server sets it
		syscall.SetNonblock(c, true)                                          //nolint:errcheck // drained without waiting
		servers, clients = append(servers, s), append(clients, c)
	}
	if len(servers) == 0 {
		return nil, nil, closeAll, errors.New("floor: no loopback connection could be opened")
	}
	return servers, clients, closeAll, nil
}

func floorListener() (int, syscall.Sockaddr, error) {
	ln, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, fmt.Errorf("floor listener: %w", err)
	}
	lo := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(ln, lo); err != nil {
		syscall.Close(ln)
		return -1, nil, fmt.Errorf("floor listener: %w", err)
	}
	if err := syscall.Listen(ln, 4096); err != nil {
		syscall.Close(ln)
		return -1, nil, fmt.Errorf("floor listener: %w", err)
	}
	sa, err := syscall.Getsockname(ln)
	if err != nil {
		syscall.Close(ln)
		return -1, nil, fmt.Errorf("floor listener: %w", err)
	}
	return ln, sa, nil
}

// drainFDs reads what the clients have received, without waiting.
func drainFDs(clients []int) {
	buf := make([]byte, 64<<10)
	for _, c := range clients {
		for {
			if n, err := syscall.Read(c, buf); n <= 0 || err != nil {
				break
			}
		}
	}
}
