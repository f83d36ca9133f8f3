package bench

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// startReaders reads clients as frames arrive, for the live floor: each
// socket is in the epoll set of one of epollLoops reader threads, as the
// benchmark's clients read theirs, on cpus (empty: anywhere). GOMAXPROCS
// grows by the readers while they run, so that they never wait for the
// writers' Ps, and is set back to writers by stop, which ends the readers
// and waits for them.
func startReaders(clients, cpus []int, writers int) (stop func(), err error) {
	var set unix.CPUSet
	if len(cpus) == 0 {
		cpus = AllowedCPUs()
	}
	for _, c := range cpus {
		set.Set(c)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("floor readers: %w", err)
	}
	eps, err := readerSets(clients, wake)
	closeAll := func() {
		for _, ep := range eps {
			unix.Close(ep)
		}
		unix.Close(wake)
	}
	if err != nil {
		closeAll()
		return nil, err
	}
	runtime.GOMAXPROCS(writers + len(eps))
	var wg sync.WaitGroup
	for _, ep := range eps {
		wg.Add(1)
		go func() { defer wg.Done(); readLoop(ep, wake, &set) }()
	}
	return func() {
		unix.Write(wake, []byte{1, 0, 0, 0, 0, 0, 0, 0}) //nolint:errcheck // an eventfd takes it
		wg.Wait()
		closeAll()
		runtime.GOMAXPROCS(writers)
	}, nil
}

// readerSets makes epollLoops epoll sets sharing out clients, each also
// waiting on wake.
func readerSets(clients []int, wake int) ([]int, error) {
	var eps []int
	for range epollLoops {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return eps, fmt.Errorf("floor readers: %w", err)
		}
		eps = append(eps, ep)
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
			return eps, fmt.Errorf("floor readers: %w", err)
		}
	}
	for i, c := range clients {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c)}
		if err := unix.EpollCtl(eps[i%len(eps)], unix.EPOLL_CTL_ADD, c, &ev); err != nil {
			return eps, fmt.Errorf("floor readers: %w", err)
		}
	}
	return eps, nil
}

// readLoop reads each ready socket of ep once per wait, as the
// benchmark's clients do, until wake is readable. Its
// thread, pinned to set, ends with it.
func readLoop(ep, wake int, set *unix.CPUSet) {
	runtime.LockOSThread()        // never unlocked: the thread ends with the goroutine
	unix.SchedSetaffinity(0, set) //nolint:errcheck // unpinned, it still reads
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.EpollWait(ep, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == wake {
				return
			}
			unix.Read(int(ev.Fd), buf) //nolint:errcheck // level-triggered: what is left is read next time
		}
	}
}
