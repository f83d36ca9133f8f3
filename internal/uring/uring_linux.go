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
	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	cqHead, cqTail, cqMask *uint32
	cqes                   []byte
	entries                int
	gen                    uint64 // counts Send calls: the high half of each entry's user data
	broken                 error  // why the ring is no longer used
	probeBuf               []byte // the probe's bytes, on the heap
}

// New sets up a ring for up to entries sends at once (rounded up to a
// power of two by the kernel).
func New(entries int) (*Ring, error) {
	p := params{flags: setupSubmitAll}
	fd, err := setup(entries, &p)
	if errors.Is(err, unix.EINVAL) { // a kernel before 5.18: without SUBMIT_ALL a bad entry stops the rest (Send withdraws them)
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
	r.probeBuf = make([]byte, 64<<10)
	for {
		if _, err := unix.Write(sp[0], r.probeBuf); err != nil {
			break
		}
	}
	tail := atomic.LoadUint32(r.sqTail)
	idx := tail & *r.sqMask
	r.prepSend(idx, sp[0], r.probeBuf[:1], 0) // generation 0: Send's calls count from 1
	r.sqArray[idx] = idx
	atomic.StoreUint32(r.sqTail, tail+1)
	if _, _, errno := syscall.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 1, 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("io_uring probe: %w", errno)
	}
	res := []int32{0}
	if got, _ := r.reap(res); got != 1 || res[0] != -int32(unix.EAGAIN) {
		return fmt.Errorf("io_uring: %w: a send to a full socket waits instead of failing with EAGAIN", errors.ErrUnsupported)
	}
	r.probeBuf = nil
	return nil
}

func setup(entries int, p *params) (int, error) {
	fd, _, errno := syscall.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
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
	r.sqHead, r.sqTail, r.sqMask = at(p.sqOff[0]), at(p.sqOff[1]), at(p.sqOff[2])
	r.sqArray = unsafe.Slice(at(p.sqOff[6]), p.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff[0]), at(p.cqOff[1]), at(p.cqOff[2])
	r.cqes = r.ring[p.cqOff[5]:]
	return nil
}

// Entries is the most sends one Send takes.
func (r *Ring) Entries() int { return r.entries }

// Send sends bufs[i] on socket fds[i] for every i, entering the kernel
// once, and sets res[i] to the bytes sent or to minus the error number.
// Each send is tried once, without waiting: a socket that takes nothing
// now answers -EAGAIN, and so does a send the kernel did not take (never
// sent, so it may be written again). A send the kernel took whose outcome
// is unknown (it did not complete) answers -ECANCELED: whether its bytes
// went out cannot be known, so the caller must not write them again. An
// error says the ring is no longer usable; res holds what is known. Every
// buffer must be non-empty, on the heap (not a stack variable: the kernel
// gets its address), and unchanged until Send returns; at most Entries.
func (r *Ring) Send(fds []int, bufs [][]byte, res []int32) error {
	n := len(fds)
	if n > r.entries || len(bufs) != n || len(res) < n {
		return fmt.Errorf("io_uring: %d sends for a ring of %d", n, r.entries)
	}
	if r.broken == nil && r.fd < 0 {
		r.broken = errors.New("io_uring: the ring is closed")
	}
	if r.broken != nil {
		for i := range n {
			res[i] = -int32(unix.EAGAIN) // not taken
		}
		return r.broken
	}
	r.gen++
	tail := atomic.LoadUint32(r.sqTail)
	if head := atomic.LoadUint32(r.sqHead); head != tail {
		return r.fail(fmt.Errorf("io_uring: %d entries of an earlier call were never taken", tail-head))
	}
	for i := range n {
		idx := (tail + uint32(i)) & *r.sqMask
		r.prepSend(idx, fds[i], bufs[i], r.gen<<32|uint64(i))
		r.sqArray[idx] = idx
		res[i] = -int32(unix.EAGAIN) // not sent, until the kernel takes it
	}
	atomic.StoreUint32(r.sqTail, tail+uint32(n))
	submitted, err := r.enter(n, n)
	took := int(atomic.LoadUint32(r.sqHead) - tail) // what the kernel read, whatever enter said
	if took < n {
		atomic.StoreUint32(r.sqTail, tail+uint32(took)) // the rest are withdrawn: never sent
	}
	for i := range took {
		res[i] = -int32(unix.ECANCELED) // taken: its completion says what became of it
	}
	if err == nil && submitted != took {
		err = fmt.Errorf("io_uring: enter took %d entries, the ring says %d", submitted, took)
	}
	got, stale := r.reap(res[:n])
	for err == nil && got < took { // a short submission returns before waiting
		if _, err = r.enter(0, took-got); err == nil {
			more, st := r.reap(res[:n])
			got, stale = got+more, stale+st
		}
	}
	runtime.KeepAlive(bufs)
	switch {
	case err != nil:
		return r.fail(err)
	case stale > 0:
		return r.fail(fmt.Errorf("io_uring: %d completions of an earlier call", stale))
	case took < n:
		return r.fail(fmt.Errorf("io_uring: the kernel took %d of %d sends", took, n))
	}
	return nil
}

// fail marks the ring unusable with err, and returns it.
func (r *Ring) fail(err error) error {
	r.broken = err
	return err
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

// enter submits n entries and waits for wait completions (it returns
// early, without waiting, when it could not submit them all).
func (r *Ring) enter(n, wait int) (int, error) {
	for {
		got, _, errno := syscall.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n), uintptr(wait), enterGetEvents, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return 0, fmt.Errorf("io_uring enter: %w", errno)
		}
		return int(got), nil
	}
}

// reap reads the completions of this call into res by their entry's
// index, and counts those of earlier calls (stale), which it drops.
func (r *Ring) reap(res []int32) (got, stale int) {
	head, tail := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		c := r.cqes[(head&*r.cqMask)*cqeLen:]
		data := *(*uint64)(unsafe.Pointer(&c[0]))
		if i := data & (1<<32 - 1); data>>32 == r.gen&(1<<32-1) && i < uint64(len(res)) {
			res[i] = *(*int32)(unsafe.Pointer(&c[8]))
			got++
		} else {
			stale++
		}
	}
	atomic.StoreUint32(r.cqHead, head)
	return got, stale
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

// Available reports whether the kernel sets up an io_uring for this
// process at all (it may still fail New's probe).
func Available() bool {
	var p params
	fd, err := setup(1, &p)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
