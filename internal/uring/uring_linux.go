package uring

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's interface (include/uapi/linux/io_uring.h).
const (
	sysSetup        = 425
	sysEnter        = 426
	opSend          = 26
	enterGetEvents  = 1 << 0
	setupSubmitAll  = 1 << 7
	offSQRing       = 0
	offSQEs         = 0x10000000
	featSingleMmap  = 1 << 0
	sqeSize, cqeLen = 64, 16
)

// params is struct io_uring_params.
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  [10]uint32 // head, tail, ring_mask, ring_entries, flags, dropped, array, resv1, user_addr
	cqOff                                                                  [10]uint32 // head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1, user_addr
}

// Ring is one io_uring, used by one goroutine at a time.
type Ring struct {
	fd                     int
	ring, sqes             []byte // the mapped rings, and the submission entries
	sqTail, sqMask         *uint32
	sqArray                []uint32
	cqHead, cqTail, cqMask *uint32
	cqes                   []byte
	entries                int
}

// New sets up a ring for up to entries sends at once (rounded up to a
// power of two by the kernel).
func New(entries int) (*Ring, error) {
	p := params{flags: setupSubmitAll}
	fd, err := setup(entries, &p)
	if errors.Is(err, unix.EINVAL) { // a kernel before 5.18: without SUBMIT_ALL a bad entry stops the rest, which Send reports
		p = params{}
		fd, err = setup(entries, &p)
	}
	if err != nil {
		return nil, fmt.Errorf("io_uring: %w", err)
	}
	if p.features&featSingleMmap == 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("io_uring: %w (the kernel predates 5.4)", errors.ErrUnsupported)
	}
	r := &Ring{fd: fd, entries: int(p.sqEntries)}
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.probe(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// probe checks that a send to a full socket completes at once with
// EAGAIN, as Send relies on, rather than waiting for room (which a kernel
// that ignores MSG_DONTWAIT in io_uring would do).
func (r *Ring) probe() error {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("io_uring probe: %w", err)
	}
	defer unix.Close(sp[0])
	defer unix.Close(sp[1])
	chunk := make([]byte, 64<<10)
	for {
		if _, err := unix.Write(sp[0], chunk); err != nil {
			break
		}
	}
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & *r.sqMask
	r.prepSend(idx, sp[0], chunk[:1], 0)
	r.sqArray[idx] = idx
	atomic.StoreUint32(r.sqTail, tail+1)
	if _, _, errno := syscall.Syscall6(sysEnter, uintptr(r.fd), 1, 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("io_uring probe: %w", errno)
	}
	res := []int32{0}
	if r.reap(res) != 1 || res[0] != -int32(unix.EAGAIN) {
		return fmt.Errorf("io_uring: %w: a send to a full socket waits instead of failing with EAGAIN", errors.ErrUnsupported)
	}
	return nil
}

func setup(entries int, p *params) (int, error) {
	fd, _, errno := syscall.Syscall(sysSetup, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func (r *Ring) mmap(p *params) error {
	size := max(int(p.sqOff[6])+int(p.sqEntries)*4, int(p.cqOff[5])+int(p.cqEntries)*cqeLen)
	var err error
	if r.ring, err = unix.Mmap(r.fd, offSQRing, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("io_uring: map the rings: %w", err)
	}
	if r.sqes, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*sqeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("io_uring: map the entries: %w", err)
	}
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.ring[off])) }
	r.sqTail, r.sqMask = at(p.sqOff[1]), at(p.sqOff[2])
	r.sqArray = unsafe.Slice(at(p.sqOff[6]), p.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff[0]), at(p.cqOff[1]), at(p.cqOff[2])
	r.cqes = r.ring[p.cqOff[5]:]
	return nil
}

// Entries is the most sends one Send takes.
func (r *Ring) Entries() int { return r.entries }

// Send sends bufs[i] on socket fds[i] for every i, entering the kernel
// once, and sets res[i] to the bytes sent or to minus the error number
// (-EAGAIN for a socket that takes nothing now). Each send is tried once,
// without waiting. Every buffer must be non-empty and stay unchanged until
// Send returns; at most Entries at once.
func (r *Ring) Send(fds []int, bufs [][]byte, res []int32) error {
	n := len(fds)
	if n > r.entries || len(bufs) != n || len(res) < n {
		return fmt.Errorf("io_uring: %d sends for a ring of %d", n, r.entries)
	}
	tail := atomic.LoadUint32(r.sqTail)
	for i := range n {
		idx := (tail + uint32(i)) & *r.sqMask
		r.prepSend(idx, fds[i], bufs[i], uint64(i))
		r.sqArray[idx] = idx
		res[i] = -int32(unix.ECANCELED) // until its completion says otherwise
	}
	atomic.StoreUint32(r.sqTail, tail+uint32(n))
	submitted, err := r.enter(n)
	runtime.KeepAlive(bufs)
	if err != nil {
		return err
	}
	if got := r.reap(res[:n]); got != submitted {
		return fmt.Errorf("io_uring: %d of %d sends completed", got, submitted)
	}
	return nil
}

// prepSend fills submission entry idx with a send of b on fd.
func (r *Ring) prepSend(idx uint32, fd int, b []byte, data uint64) {
	e := r.sqes[idx*sqeSize : (idx+1)*sqeSize]
	clear(e)
	e[0] = opSend
	*(*int32)(unsafe.Pointer(&e[4])) = int32(fd)
	*(*uint64)(unsafe.Pointer(&e[16])) = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	*(*uint32)(unsafe.Pointer(&e[24])) = uint32(len(b))
	*(*uint32)(unsafe.Pointer(&e[28])) = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	*(*uint64)(unsafe.Pointer(&e[32])) = data
}

// enter submits n entries and waits for as many completions as were
// submitted: sends that do not wait complete in the call itself.
func (r *Ring) enter(n int) (int, error) {
	for {
		got, _, errno := syscall.Syscall6(sysEnter, uintptr(r.fd), uintptr(n), uintptr(n), enterGetEvents, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return 0, fmt.Errorf("io_uring enter: %w", errno)
		}
		return int(got), nil
	}
}

// reap reads the completions into res by their entry's index.
func (r *Ring) reap(res []int32) int {
	head, tail := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
	got := 0
	for ; head != tail; head++ {
		c := r.cqes[(head&*r.cqMask)*cqeLen:]
		if i := *(*uint64)(unsafe.Pointer(&c[0])); i < uint64(len(res)) {
			res[i] = *(*int32)(unsafe.Pointer(&c[8]))
			got++
		}
	}
	atomic.StoreUint32(r.cqHead, head)
	return got
}

// Close releases the ring; later calls do nothing (its descriptor is
// never closed twice, which could close another file that reused it).
func (r *Ring) Close() error {
	if r.fd < 0 {
		return nil
	}
	if r.sqes != nil {
		unix.Munmap(r.sqes) //nolint:errcheck // mapped by New
	}
	if r.ring != nil {
		unix.Munmap(r.ring) //nolint:errcheck // mapped by New
	}
	r.sqes, r.ring = nil, nil
	fd := r.fd
	r.fd = -1
	return unix.Close(fd)
}
