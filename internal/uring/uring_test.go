package uring

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pair is a loopback TCP connection: the accepted end's descriptor (sent
// on) and the dialled end (read).
func pair(t *testing.T) (int, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	raw, _ := s.(*net.TCPConn).SyscallConn()
	fd := -1
	raw.Control(func(f uintptr) { fd = int(f) })
	return fd, c
}

// ring is a Ring of n entries. Where the kernel sets up io_uring at all,
// New must work (a broken send fails its probe, which must not pass for
// "unsupported"); elsewhere the test skips.
func ring(t *testing.T, n int) *Ring {
	t.Helper()
	r, err := New(n)
	if err != nil && !Available() {
		t.Skipf("no io_uring here: %v", err)
	}
	if err != nil {
		t.Fatalf("io_uring sets up here, but New failed: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestBrokenRingRefuses: a ring whose submission failed (here, its
// descriptor closed) says so from then on, and says which sends were
// never taken (-EAGAIN), so they can be written again.
func TestBrokenRingRefuses(t *testing.T) {
	r := ring(t, 4)
	fd, _ := pair(t)
	unix.Close(r.fd) // enter fails: nothing is taken
	res := []int32{7}
	if err := r.Send([]int{fd}, [][]byte{[]byte("x")}, res); err == nil || res[0] != -int32(unix.EAGAIN) {
		t.Fatalf("Send on a closed ring: %v, result %v; want an error and -EAGAIN", err, res)
	}
	r.fd = -1 // closed above
	if err := r.Send([]int{fd}, [][]byte{[]byte("x")}, res); err == nil {
		t.Fatal("a broken ring sent again")
	}
}

// TestSendDelivers: each socket gets its own bytes, in order across sends.
func TestSendDelivers(t *testing.T) {
	r := ring(t, 8)
	var fds []int
	var readers []net.Conn
	for range 5 {
		fd, c := pair(t)
		fds, readers = append(fds, fd), append(readers, c)
	}
	res := make([]int32, 5)
	for round := range 3 {
		bufs := make([][]byte, 5)
		for i := range bufs {
			bufs[i] = []byte{byte('a' + i), byte('0' + round)}
		}
		if err := r.Send(fds, bufs, res); err != nil {
			t.Fatal(err)
		}
		for i, n := range res {
			if n != 2 {
				t.Fatalf("round %d socket %d: result %d", round, i, n)
			}
		}
	}
	for i, c := range readers {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, 6)
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if want := []byte{byte('a' + i), '0', byte('a' + i), '1', byte('a' + i), '2'}; !bytes.Equal(got, want) {
			t.Errorf("socket %d read %q, want %q", i, got, want)
		}
	}
}

// TestSendNeverWaits: a socket whose buffers are full answers EAGAIN at
// once, beside one that takes its bytes; nothing is sent twice or late.
func TestSendNeverWaits(t *testing.T) {
	r := ring(t, 4)
	full, fullReader := pair(t)
	ok, okReader := pair(t)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	sent := 0
	for {
		n, err := unix.Write(full, chunk)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent += n
	}
	res := make([]int32, 2)
	done := make(chan error, 1)
	go func() { done <- r.Send([]int{full, ok}, [][]byte{[]byte("late"), []byte("now")}, res) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send waited for a full socket")
	}
	if res[0] != -int32(unix.EAGAIN) || res[1] != 3 {
		t.Fatalf("results %v, want [-EAGAIN 3]", res)
	}
	okReader.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 3)
	if _, err := io.ReadFull(okReader, got); err != nil || string(got) != "now" {
		t.Fatalf("read %q, %v", got, err)
	}
	// Drain the full socket: exactly what write(2) sent, no "late".
	fullReader.SetReadDeadline(time.Now().Add(2 * time.Second))
	total := 0
	buf := make([]byte, 1<<20)
	for {
		n, err := fullReader.Read(buf)
		total += n
		if bytes.Contains(buf[:n], []byte("late")) {
			t.Fatal("the refused send arrived")
		}
		if err != nil || total >= sent {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	fullReader.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _ := fullReader.Read(buf); n > 0 {
		t.Fatalf("%d more bytes than write(2) sent", n)
	}
}

// TestSendErrors: a closed descriptor is an error in its own result only.
func TestSendErrors(t *testing.T) {
	r := ring(t, 4)
	ok, reader := pair(t)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) // never connected
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	res := make([]int32, 3)
	if err := r.Send([]int{1 << 20, fd, ok}, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, res); err != nil {
		t.Fatal(err)
	}
	if res[0] != -int32(syscall.EBADF) || res[1] != -int32(syscall.EPIPE) || res[2] != 1 {
		t.Fatalf("results %v, want [-EBADF -EPIPE 1]", res)
	}
	reader.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 1)
	if _, err := io.ReadFull(reader, got); err != nil || got[0] != 'c' {
		t.Fatalf("read %q, %v", got, err)
	}
	if err := r.Send(make([]int, 5), make([][]byte, 5), make([]int32, 5)); err == nil {
		t.Fatal("five sends on a ring of four")
	}
}
