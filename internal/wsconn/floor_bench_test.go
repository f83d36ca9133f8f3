package wsconn

import (
	"errors"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

// floorSockets is as many loopback connections as fit both their ends in
// one process under a descriptor limit of 20,000.
const floorSockets = 9000

// BenchmarkFanoutFloor is the least a fan-out round can cost on this
// machine: one 339-byte segment written to each of floorSockets loopback
// TCP sockets by as many threads as there are CPUs, with no WebSocket, no
// hub and no reader (the receiving ends are in no epoll set, so no wakeup
// either; they are drained outside the timer). ms/round10k scales the
// round to 10,000 sockets: the time by which the last of 10,000 clients
// can have an update if the server had every CPU and the clients none.
//
//	go test -run x -bench FanoutFloor ./internal/wsconn
func BenchmarkFanoutFloor(b *testing.B) {
	servers, clients := floorPairs(b)
	frame := AppendText(nil, make([]byte, 337))
	workers := runtime.GOMAXPROCS(0)
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(servers); i += workers {
					if _, err := syscall.Write(servers[i], frame); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		drainFDs(b, clients)
		b.StartTimer()
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N*len(servers))
	b.ReportMetric(per*float64(workers), "ns/write")
	b.ReportMetric(per*10000/1e6, "ms/round10k")
}

// floorPairs opens floorSockets loopback TCP connections with raw system
// calls: the accepted ends (written to) and the dialled ends (drained).
func floorPairs(b *testing.B) (servers, clients []int) {
	ln, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { syscall.Close(ln) })
	lo := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(ln, lo); err != nil {
		b.Fatal(err)
	}
	if err := syscall.Listen(ln, 4096); err != nil {
		b.Fatal(err)
	}
	sa, err := syscall.Getsockname(ln)
	if err != nil {
		b.Fatal(err)
	}
	for range floorSockets {
		c, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if errors.Is(err, syscall.EMFILE) {
			b.Skipf("%d connections need %d descriptors: raise ulimit -n", floorSockets, 2*floorSockets+10)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { syscall.Close(c) })
		if err := syscall.Connect(c, sa); err != nil {
			b.Fatal(err)
		}
		s, _, err := syscall.Accept4(ln, syscall.SOCK_CLOEXEC)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { syscall.Close(s) })
		syscall.SetsockoptInt(s, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1) //nolint:errcheck // as the server sets it
		syscall.SetNonblock(c, true)                                          //nolint:errcheck // drained without waiting
		servers, clients = append(servers, s), append(clients, c)
	}
	return servers, clients
}

// drainFDs reads what the clients have received, without waiting.
func drainFDs(b *testing.B, clients []int) {
	buf := make([]byte, 64<<10)
	for _, c := range clients {
		for {
			if n, err := syscall.Read(c, buf); n <= 0 || err != nil {
				break
			}
		}
	}
}
