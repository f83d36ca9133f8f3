package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// epollLoops is how many goroutines read the WebSocket clients' sockets.
const epollLoops = 2

// epollWS runs n WebSocket clients the cheap way: after a normal dial,
// handshake and subscribe, each socket is read by one of a few epoll
// loops, not by a goroutine of its own, so that the client process takes
// as little as possible of the CPU the server is measured on. It returns
// how many connected and a func that waits for the loops to end after ctx
// does.
func (c *clients) epollWS(ctx context.Context, n int) (int, func()) {
	loops := make([]*epollLoop, epollLoops)
	for i := range loops {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			c.errors.Add(int64(n))
			return 0, func() {}
		}
		loops[i] = &epollLoop{c: c, ep: fd}
	}
	connected := 0
	for i := range n {
		fd, err := c.wsSocket(ctx)
		if err != nil {
			c.errors.Add(1)
			continue
		}
		l := loops[i%len(loops)]
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
		if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			unix.Close(fd)
			c.errors.Add(1)
			continue
		}
		for len(l.conns) <= fd {
			l.conns = append(l.conns, nil)
		}
		l.conns[fd] = []byte{}
		connected++
	}
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		go func() { defer wg.Done(); l.run(ctx) }()
	}
	return connected, wg.Wait
}

// wsSocket dials, opens a WebSocket, subscribes, reads the ack and returns
// a non-blocking socket of its own.
func (c *clients) wsSocket(ctx context.Context) (int, error) {
	conn, err := c.dial(ctx, "tcp", strings.TrimPrefix(c.base, "http://"))
	if err != nil {
		return -1, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // the reads fail instead
	fmt.Fprintf(conn, "GET /v1/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", strings.TrimPrefix(c.base, "http://"))
	buf := make([]byte, 4096)
	got := 0
	for !bytes.Contains(buf[:got], []byte("\r\n\r\n")) { // the server sends nothing more before the ack
		m, err := conn.Read(buf[got:])
		if err != nil {
			return -1, fmt.Errorf("handshake: %w", err)
		}
		got += m
	}
	if !bytes.HasPrefix(buf, []byte("HTTP/1.1 101")) {
		return -1, fmt.Errorf("handshake: %q", buf[:got])
	}
	sub := fmt.Sprintf(`{"op":"subscribe","id":1,"streams":[%q],"snapshot":0}`, Stream.String())
	if _, err := conn.Write(maskedText([]byte(sub))); err != nil {
		return -1, err
	}
	if _, err := conn.Read(buf); err != nil { // the ack, one small frame
		return -1, err
	}
	raw, err := conn.(*countingConn).Conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	raw.Control(func(s uintptr) { fd, err = unix.Dup(int(s)) }) //nolint:errcheck // err is set inside
	if err != nil {
		return -1, err
	}
	// The kernel stamps each segment as it reaches the socket: on loopback
	// that is the moment the server's write hands it over.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	return fd, nil // non-blocking, as the socket it shares
}

// maskedText is a client text frame (clients must mask; the mask is zero).
func maskedText(p []byte) []byte {
	b := []byte{0x81, 0x80 | byte(len(p))}
	if len(p) >= 126 {
		b = []byte{0x81, 0x80 | 126, byte(len(p) >> 8), byte(len(p))}
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, p...)
}

// epollLoop reads its sockets' frames as they arrive.
type epollLoop struct {
	c     *clients
	ep    int
	conns [][]byte // by socket: bytes of a frame not complete yet; nil when not open
	lat   []int32  // publish to the client's read, µs
	arr   []int32  // publish to arrival in the client's socket, µs
	wire  int64    // bytes read while measuring, not yet counted
	n     int64    // candles received while measuring, not yet counted
}

func (l *epollLoop) run(ctx context.Context) {
	defer l.close()
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(16))
	for ctx.Err() == nil {
		n, err := unix.EpollWait(l.ep, events, 100)
		if err != nil && err != unix.EINTR {
			l.c.errors.Add(1)
			return
		}
		for _, ev := range events[:max(n, 0)] {
			l.read(int(ev.Fd), buf, oob)
		}
		l.count()
	}
}

// count hands the loop's counts over after each wait's reads, so that a
// pause of the measurement finds them (the latencies wait for close).
func (l *epollLoop) count() {
	if l.n != 0 || l.wire != 0 {
		l.c.delivered.Add(l.n)
		l.c.wire.Add(l.wire)
		l.n, l.wire = 0, 0
	}
}

// read takes what one socket has and handles its complete frames.
func (l *epollLoop) read(fd int, buf, oob []byte) {
	m, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, 0)
	if m <= 0 {
		if err != unix.EAGAIN && err != unix.EINTR {
			l.drop(fd)
		}
		return
	}
	measuring := l.c.measuring.Load()
	if measuring {
		l.wire += int64(m)
	}
	data := buf[:m]
	if p := l.conns[fd]; len(p) > 0 {
		data = append(p, data...)
	}
	now := time.Now().UnixMicro()
	arrived := arrival(oob[:oobn], now)
	for {
		op, payload, rest, ok := frame(data)
		if !ok {
			break
		}
		data = rest
		switch {
		case op == 0x9: // ping: answer, or the server closes the connection
			pong := maskedText(payload)
			pong[0] = 0x8a
			unix.Write(fd, pong) //nolint:errcheck // a failure shows as a read error
		case op == 0x8:
			l.drop(fd)
			return
		case measuring:
			before := len(l.lat)
			l.lat = latencies(payload, now, l.lat)
			l.arr = latencies(payload, arrived, l.arr)
			l.n += int64(len(l.lat) - before)
		}
	}
	l.conns[fd] = append(l.conns[fd][:0], data...)
}

// arrival reads the kernel's receive time (SCM_TIMESTAMPNS, µs) from a
// read's control message; without one it returns now. For a read that
// takes several segments the kernel reports the last one's time, so an
// earlier frame's arrival is, if anything, counted late.
func arrival(oob []byte, now int64) int64 {
	const hdr = 16 // struct cmsghdr on 64-bit Linux: len, level, type
	if len(oob) < hdr+16 {
		return now
	}
	e := binary.NativeEndian
	if int32(e.Uint32(oob[8:])) != unix.SOL_SOCKET || int32(e.Uint32(oob[12:])) != unix.SCM_TIMESTAMPNS {
		return now
	}
	sec, nsec := int64(e.Uint64(oob[hdr:])), int64(e.Uint64(oob[hdr+8:]))
	return sec*1_000_000 + nsec/1000
}

// frame splits off one server (unmasked) frame.
func frame(b []byte) (op byte, payload, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, b, false
	}
	n, h := int(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil, b, false
		}
		n, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, b, false
		}
		n, h = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if len(b) < h+n {
		return 0, nil, b, false
	}
	return b[0] & 0x0f, b[h : h+n], b[h+n:], true
}

func (l *epollLoop) drop(fd int) {
	unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, fd, nil) //nolint:errcheck // closing anyway
	unix.Close(fd)
	l.conns[fd] = nil
	l.c.errors.Add(1)
}

// close ends every socket and hands the latencies over.
func (l *epollLoop) close() {
	for fd, p := range l.conns {
		if p != nil {
			unix.Close(fd)
		}
	}
	unix.Close(l.ep)
	l.count()
	l.c.mu.Lock()
	l.c.lat = append(l.c.lat, l.lat...)
	l.c.arr = append(l.c.arr, l.arr...)
	l.c.mu.Unlock()
}
