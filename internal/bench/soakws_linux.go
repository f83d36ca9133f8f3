package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// soakConn is an open soak WebSocket: its client and the bytes of a frame
// not complete yet.
type soakConn struct {
	c       *soakClient
	partial []byte
}

// soakLoop reads its WebSocket clients' sockets with epoll, as the bench's
// epoll loops do; a socket that ends goes to the redialer, which comes
// back from the client's cursor and hands the new socket to the loop.
type soakLoop struct {
	s     *soakClients
	ep    int
	conns map[int]*soakConn
	added chan addedConn   // from the redialer
	lost  chan *soakClient // to the redialer; room for every client
}

type addedConn struct {
	fd   int
	conn *soakConn
}

// epollWS connects the WebSocket clients over epollLoops loops, each with
// its redialer; it returns how many connected at first and a func that
// waits for the loops after ctx ends.
func (s *soakClients) epollWS(ctx context.Context) (int, func()) {
	loops := make([]*soakLoop, epollLoops)
	for i := range loops {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return 0, func() {}
		}
		loops[i] = &soakLoop{s: s, ep: fd, conns: map[int]*soakConn{}, added: make(chan addedConn, len(s.all)),
			lost: make(chan *soakClient, len(s.all))}
	}
	connected := 0
	for i, c := range s.all {
		l := loops[i%len(loops)]
		fd, rest, err := s.wsDial(ctx, c)
		if err != nil {
			l.lost <- c
			continue
		}
		l.add(fd, &soakConn{c: c, partial: rest})
		connected++
	}
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(2)
		go func() { defer wg.Done(); l.run(ctx) }()
		go func() { defer wg.Done(); l.redial(ctx) }()
	}
	return connected, wg.Wait
}

// wsDial opens a WebSocket for c, subscribes (from its cursor when it has
// one), reads the ack and returns a socket of its own with the bytes that
// followed the ack.
func (s *soakClients) wsDial(ctx context.Context, c *soakClient) (int, []byte, error) {
	host := strings.TrimPrefix(s.base, "http://")
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return -1, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck // the reads fail instead
	fmt.Fprintf(conn, "GET /v1/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", host)
	buf, err := readUntil(conn, nil, func(b []byte) bool { return bytes.Contains(b, []byte("\r\n\r\n")) })
	if err != nil || !bytes.HasPrefix(buf, []byte("HTTP/1.1 101")) {
		return -1, nil, fmt.Errorf("handshake: %q: %v", buf, err)
	}
	buf = buf[bytes.Index(buf, []byte("\r\n\r\n"))+4:]
	if _, err := conn.Write(maskedText(subscribeMsg(c))); err != nil {
		return -1, nil, err
	}
	if buf, err = readUntil(conn, buf, func(b []byte) bool { _, _, _, ok := frame(b); return ok }); err != nil {
		return -1, nil, fmt.Errorf("ack: %w", err)
	}
	_, ack, rest, _ := frame(buf)
	if err := c.acked(ack); err != nil {
		return -1, nil, err
	}
	fd, err := dupFD(conn.(*net.TCPConn))
	return fd, append([]byte(nil), rest...), err
}

// readUntil reads from conn onto buf until done(buf).
func readUntil(conn net.Conn, buf []byte, done func([]byte) bool) ([]byte, error) {
	tmp := make([]byte, 16<<10)
	for !done(buf) {
		n, err := conn.Read(tmp)
		if err != nil {
			return buf, err
		}
		buf = append(buf, tmp[:n]...)
	}
	return buf, nil
}

func dupFD(conn *net.TCPConn) (int, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if cerr := raw.Control(func(s uintptr) { fd, err = unix.Dup(int(s)) }); cerr != nil {
		return -1, cerr
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	return fd, err
}

// subscribeMsg subscribes to c's streams: from its cursor, or without a
// snapshot before it has one.
func subscribeMsg(c *soakClient) []byte {
	q, _ := json.Marshal(c.streams)
	if cur := c.lastCursor(); cur > 0 {
		return fmt.Appendf(nil, `{"op":"subscribe","id":1,"streams":%s,"since":%d}`, q, cur)
	}
	return fmt.Appendf(nil, `{"op":"subscribe","id":1,"streams":%s,"snapshot":0}`, q)
}

// acked takes the subscription's answer: an ack gives a new client its
// cursor; anything else is an error.
func (c *soakClient) acked(msg []byte) error {
	if !bytes.Contains(msg, []byte(`"type":"ack"`)) {
		return fmt.Errorf("subscribe: %s", msg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cursor == 0 {
		c.cursor = cursorOf(msg)
	}
	return nil
}

func (l *soakLoop) add(fd int, sc *soakConn) {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		l.lost <- sc.c
		return
	}
	l.conns[fd] = sc
	if len(sc.partial) > 0 { // candles that came with the ack
		l.frames(fd, sc, nil)
	}
}

func (l *soakLoop) run(ctx context.Context) {
	defer l.close()
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		for len(l.added) > 0 {
			a := <-l.added
			l.add(a.fd, a.conn)
		}
		n, err := unix.EpollWait(l.ep, events, 100)
		if err != nil && err != unix.EINTR {
			return
		}
		for _, ev := range events[:max(n, 0)] {
			l.read(int(ev.Fd), buf)
		}
	}
}

// read takes what one socket has and handles its complete frames.
func (l *soakLoop) read(fd int, buf []byte) {
	sc := l.conns[fd]
	if sc == nil {
		return
	}
	m, err := unix.Read(fd, buf)
	if m <= 0 {
		if err != unix.EAGAIN && err != unix.EINTR {
			l.drop(fd)
		}
		return
	}
	l.frames(fd, sc, buf[:m])
}

// frames handles the complete frames of sc's bytes and data.
func (l *soakLoop) frames(fd int, sc *soakConn, data []byte) {
	data = append(sc.partial, data...)
	for {
		op, payload, rest, ok := frame(data)
		if !ok {
			break
		}
		data = rest
		switch op {
		case 0x9: // ping: answer, or the server closes the connection
			pong := maskedText(payload)
			pong[0] = 0x8a
			unix.Write(fd, pong) //nolint:errcheck // a failure shows as a read error
		case 0x8:
			l.drop(fd)
			return
		case 0x1:
			sc.c.record(payload)
		}
	}
	sc.partial = append(sc.partial[:0], data...)
}

// drop closes a socket and hands its client to the redialer.
func (l *soakLoop) drop(fd int) {
	sc := l.conns[fd]
	unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, fd, nil) //nolint:errcheck // closing anyway
	unix.Close(fd)
	delete(l.conns, fd)
	sc.c.mu.Lock()
	sc.c.reconn++
	sc.c.mu.Unlock()
	l.lost <- sc.c
}

// redial reconnects lost clients, each from its cursor, until ctx ends.
func (l *soakLoop) redial(ctx context.Context) {
	for {
		var c *soakClient
		select {
		case <-ctx.Done():
			return
		case c = <-l.lost:
		}
		fd, rest, err := l.s.wsDial(ctx, c)
		if err != nil {
			l.lost <- c // try again after a pause
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		l.added <- addedConn{fd: fd, conn: &soakConn{c: c, partial: rest}}
	}
}

func (l *soakLoop) close() {
	for fd := range l.conns {
		unix.Close(fd)
	}
	unix.Close(l.ep)
}
