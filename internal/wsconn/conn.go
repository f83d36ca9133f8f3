package wsconn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Close codes beyond RFC 6455's own.
const (
	StatusNormal        = ws.StatusNormalClosure
	StatusGoingAway     = ws.StatusGoingAway
	StatusProtocolError = ws.StatusProtocolError
	StatusBadData       = ws.StatusInvalidFramePayloadData
	StatusPolicy        = ws.StatusPolicyViolation
	StatusTooBig        = ws.StatusMessageTooBig
	StatusInternal      = ws.StatusInternalServerError
)

// Errors a write or ping can return.
var (
	ErrClosing = errors.New("wsconn: the connection is closing")
	ErrNoPong  = errors.New("wsconn: no pong since the last ping")
	ErrBacklog = errors.New("wsconn: too much waiting for a client that does not read")
)

// CloseError says how a connection ended with a close handshake.
type CloseError struct {
	Code   ws.StatusCode
	Reason string
	Remote bool // the client closed first
}

func (e *CloseError) Error() string {
	who := "server"
	if e.Remote {
		who = "client"
	}
	return fmt.Sprintf("websocket closed by the %s: %d %s", who, e.Code, e.Reason)
}

// Handler gets a connection's events, on its reader goroutine.
type Handler interface {
	// Message is one complete data message from the client; the slice is
	// the handler's. It may block, which stops reading from the client.
	Message(data []byte)
	// Writable says a write that had to wait for the client has finished,
	// so more can be written.
	Writable()
	// Closed is the last call: the socket is closed. err is a *CloseError
	// after a close handshake, else what broke the connection.
	Closed(err error)
}

// Config bounds a connection. Zero fields take the defaults.
type Config struct {
	MaxMessage   int64         // largest client message; default 64 KiB
	MaxBacklog   int           // bytes kept for a client that does not read; default 1 MiB
	WriteTimeout time.Duration // a write blocked this long closes the connection; default 10s
	CloseTimeout time.Duration // wait for the client's close frame after ours; default 2s
	Origins      []string      // hosts besides the server's own allowed to connect (path.Match patterns)
}

func (c Config) withDefaults() Config {
	if c.MaxMessage <= 0 {
		c.MaxMessage = 64 << 10
	}
	if c.MaxBacklog <= 0 {
		c.MaxBacklog = 1 << 20
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 2 * time.Second
	}
	return c
}

// Conn is one server-side WebSocket connection.
type Conn struct {
	nc      net.Conn
	fd      int // the socket, for writes tried without blocking; -1 when that cannot be done (TLS)
	r       io.Reader
	cfg     *Config
	h       Handler     // set by Serve, before any write
	waiting atomic.Bool // a ping was sent and no pong came yet

	writing atomic.Bool // a goroutine is writing out; changed under mu

	mu      sync.Mutex
	out     []byte // frames waiting for the client
	closed  bool   // the socket is closed: fd must not be written
	closing *CloseError
	done    chan struct{} // closed when closing starts
}

func newConn(nc net.Conn, r io.Reader, cfg *Config) *Conn {
	c := &Conn{nc: nc, fd: -1, r: r, cfg: cfg, done: make(chan struct{})}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { c.fd = int(fd) }) //nolint:errcheck // fd stays -1
		}
	}
	return c
}

// closeSocketLocked closes the socket under mu. The socket is written
// through its descriptor only under mu and while it is open, so a write
// can never reach a descriptor reused by another file.
func (c *Conn) closeSocketLocked() {
	if !c.closed {
		c.closed = true
		c.nc.Close()
	}
}

// Serve starts reading the client's frames, reporting to h. Call it
// before the first Write.
func (c *Conn) Serve(h Handler) {
	c.h = h
	go c.read()
}

// Closing is closed once the connection starts closing.
func (c *Conn) Closing() <-chan struct{} { return c.done }

// Writing reports whether a write is waiting for the client.
func (c *Conn) Writing() bool { return c.writing.Load() }

// Write sends b, which holds whole frames (see AppendText). It never
// blocks: what the socket does not take at once is written by a goroutine
// under the write timeout, and Handler.Writable follows.
func (c *Conn) Write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing != nil {
		return ErrClosing
	}
	return c.writeLocked(b)
}

func (c *Conn) writeLocked(b []byte) error {
	if c.writing.Load() {
		if len(c.out)+len(b) > c.cfg.MaxBacklog {
			c.closeSocketLocked() // no close frame can pass a full pipe
			return ErrBacklog
		}
		c.out = append(c.out, b...)
		return nil
	}
	n, err := c.tryWrite(b)
	if err != nil {
		c.closeSocketLocked() // the reader sees it and ends the connection
		return fmt.Errorf("write to %s: %w", c.nc.RemoteAddr(), err)
	}
	if n == len(b) {
		return nil
	}
	c.out = append(c.out[:0], b[n:]...)
	c.writing.Store(true)
	go c.flush()
	return nil
}

// tryWrite writes what the socket takes now, without blocking, under mu.
// It writes the descriptor directly (the socket is non-blocking): going
// through net's RawConn costs a sixth of a fan-out's CPU in locks and
// poller bookkeeping, and mu already orders the writes and the close.
func (c *Conn) tryWrite(b []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.fd < 0 {
		return 0, nil
	}
	n := 0
	for n < len(b) {
		m, err := syscall.Write(c.fd, b[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return n, nil
		case err != nil:
			return n, err
		case m <= 0:
			return n, nil
		}
		n += m
	}
	return n, nil
}

// flush writes out, blocking, until it is empty.
func (c *Conn) flush() {
	for {
		c.mu.Lock()
		buf := c.out
		c.out = nil
		if len(buf) == 0 {
			c.writing.Store(false)
			closing := c.closing != nil
			if closing {
				c.shutdownLocked()
			}
			c.mu.Unlock()
			c.nc.SetWriteDeadline(time.Time{}) //nolint:errcheck // a broken socket fails the next write
			if !closing {
				c.h.Writable()
			}
			return
		}
		c.mu.Unlock()
		c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout)) //nolint:errcheck // as above
		if _, err := c.nc.Write(buf); err != nil {
			c.mu.Lock()
			c.closeSocketLocked() // stalled past the timeout, or gone: the reader ends the connection
			c.writing.Store(false)
			c.out = nil
			c.mu.Unlock()
			return
		}
	}
}

// Ping sends a protocol ping. It returns ErrNoPong when the previous ping
// got no answer: the caller should close the connection.
func (c *Conn) Ping() error {
	if c.waiting.Swap(true) {
		return ErrNoPong
	}
	return c.Write(pingFrame)
}

var pingFrame = ws.MustCompileFrame(ws.NewPingFrame(nil))

// Close starts the close handshake with code and reason; the connection
// ends when the client answers, or after the close timeout. Later calls
// do nothing.
func (c *Conn) Close(code ws.StatusCode, reason string) {
	c.closeWith(&CloseError{Code: code, Reason: reason}, code)
}

// closeWith records how the connection ends and sends a close frame with
// code.
func (c *Conn) closeWith(e *CloseError, code ws.StatusCode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing != nil {
		return
	}
	c.closing = e
	close(c.done)
	reason := e.Reason
	if e.Remote {
		reason = ""
	}
	if len(reason) > 123 { // a control frame's payload is at most 125 bytes
		reason = reason[:123]
	}
	if c.writeLocked(ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, reason)))) == nil && !c.writing.Load() {
		c.shutdownLocked()
	}
}

// shutdownLocked ends the sending side once the close frame is out, and
// bounds the wait for the client's.
func (c *Conn) shutdownLocked() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite() //nolint:errcheck // the deadline below ends it anyway
	}
	c.nc.SetReadDeadline(time.Now().Add(c.cfg.CloseTimeout)) //nolint:errcheck // as above
}

// closeErr returns how the connection is closing, if it is.
func (c *Conn) closeErr() *CloseError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// AppendText appends msg to dst as one unmasked text frame.
func AppendText(dst, msg []byte) []byte {
	n := len(msg)
	switch {
	case n < 126:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x81, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x81, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, msg...)
}
