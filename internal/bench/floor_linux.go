package bench

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/candlewire/candlewire/internal/wsconn"
)

// floorSockets are the loopback connections floors are measured on: the
// accepted ends (written to) and the dialled ends (read).
type floorSockets struct {
	servers, clients []int
	close            func()
}

// openFloor opens up to n connections (as many as fit).
func openFloor(n int) (*floorSockets, error) {
	servers, clients, closeAll, err := floorPairs(n)
	if err != nil {
		closeAll()
		return nil, err
	}
	return &floorSockets{servers: servers, clients: clients, close: closeAll}, nil
}

// measure writes a frame of size bytes to every socket, round after round,
// for at least d: the live floor when live is set (readers on readerCPUs),
// the plain one otherwise.
func (fs *floorSockets) measure(size int, d time.Duration, live bool, readerCPUs []int) (Floor, error) {
	w := writers{n: runtime.GOMAXPROCS(0)}
	if err := unix.SchedGetaffinity(0, &w.cpus); err != nil {
		return Floor{}, fmt.Errorf("floor: the writers' CPUs: %w", err)
	}
	drainFDs(fs.clients) // what an earlier measurement left
	if live {
		stop, err := startReaders(fs.clients, readerCPUs, w.n)
		if err != nil {
			return Floor{}, err
		}
		defer stop()
	}
	frame := floorFrame(size)
	f := Floor{Sockets: len(fs.servers)}
	for f.Wall < d {
		start := time.Now()
		cpu, err := w.round(fs.servers, frame)
		if err != nil {
			return f, err
		}
		f.Wall += time.Since(start)
		f.CPU += cpu
		f.Writes += int64(len(fs.servers))
		if !live {
			drainFDs(fs.clients)
		}
	}
	return f, nil
}

// floorFrame is a WebSocket text frame of size bytes in all.
func floorFrame(size int) []byte {
	payload := size - 2 // a frame header of 2 bytes up to 125 bytes of payload, of 4 up to 65,535
	if payload > 125 {
		payload = size - 4
	}
	return wsconn.AppendText(nil, make([]byte, max(payload, 1)))
}

// writers are the floor's writing threads: n of them, on cpus.
type writers struct {
	n    int
	cpus unix.CPUSet
}

// round writes frame to every server socket from the writer threads and
// returns their CPU time. Each thread is pinned to the writers' CPUs (a
// thread the runtime starts may inherit a reader's) and ends with its
// goroutine, so no thread leaves with a changed affinity.
func (w writers) round(servers []int, frame []byte) (time.Duration, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total time.Duration
	var first error
	for i := range w.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			err := unix.SchedSetaffinity(0, &w.cpus)
			t0 := threadCPU()
			for j := i; j < len(servers) && err == nil; j += w.n {
				_, err = syscall.Write(servers[j], frame)
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
// as many as the descriptor limit leaves room for beside those open: the
// accepted ends (written to) and the dialled ends (drained). closeAll
// closes every descriptor it opened, also after an error.
func floorPairs(n int) (servers, clients []int, closeAll func(), err error) {
	n = min(n, freeDescriptors()/2)
	var fds []int
	closeAll = func() {
		for _, fd := range fds {
			if fd >= 0 {
				syscall.Close(fd)
			}
		}
	}
	ln, sa, err := floorListener()
	if err != nil {
		return nil, nil, closeAll, err
	}
	fds = append(fds, ln)
	for range n {
		c, s, err := floorPair(ln, sa)
		fds = append(fds, c, s)
		if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
			break // as many as fit
		}
		if err != nil {
			return nil, nil, closeAll, err
		}
		servers, clients = append(servers, s), append(clients, c)
	}
	if len(servers) == 0 {
		return nil, nil, closeAll, errors.New("floor: no loopback connection could be opened")
	}
	return servers, clients, closeAll, nil
}

// floorPair dials the listener and accepts: the dialled end c, made
// non-blocking for draining, and the accepted end s (-1 where not opened).
func floorPair(ln int, sa syscall.Sockaddr) (c, s int, err error) {
	c, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("floor socket: %w", err)
	}
	if err := syscall.Connect(c, sa); err != nil {
		return c, -1, fmt.Errorf("floor connect: %w", err)
	}
	if s, _, err = syscall.Accept4(ln, syscall.SOCK_CLOEXEC); err != nil {
		return c, -1, fmt.Errorf("floor accept: %w", err)
	}
	syscall.SetsockoptInt(s, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1) //nolint:errcheck // as the server sets it
	syscall.SetNonblock(c, true)                                          //nolint:errcheck // drained without waiting
	return c, s, nil
}

// freeDescriptors is how many more descriptors this process may open,
// keeping 64 in hand.
func freeDescriptors() int {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur > 1<<20 {
		return 1 << 20
	}
	open, _ := os.ReadDir("/proc/self/fd")
	return max(int(lim.Cur)-len(open)-64, 0)
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
