package wsconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
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
	// StatusSlow (reason "slow") ends a client that does not take what is
	// written to it: a write waited the write timeout, or the backlog
	// outgrew its bound. A private-use code (RFC 6455 §7.4.2).
	StatusSlow ws.StatusCode = 4008
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
	// What every write reads comes first, in one cache line: a fan-out
	// writes to thousands of connections in turn.
	mu      sync.Mutex
	writing atomic.Bool // a goroutine is writing out; changed under mu
	// batched mirrors inBatch for Writing, which takes no lock;
	// askedInBatch records that Writing said true for it (Writable is owed).
	batched, askedInBatch atomic.Bool
	inBatch               bool   // a write waits in a Batch: later ones queue in out, and the socket stays open
	closed                bool   // the socket is closed: fd must not be written
	fd                    int    // the socket, for writes tried without blocking; -1 when that cannot be done (TLS)
	out                   []byte // frames waiting for the client
	closing               *CloseError

	cut     int     // bytes at the head of out that end a frame begun on the wire
	h       Handler // set by Serve, before any write
	nc      net.Conn
	r       io.Reader
	cfg     *Config
	waiting atomic.Bool   // a ping was sent and no pong came yet
	done    chan struct{} // closed when closing starts

	_ [connPad]byte // to connSize: the allocator then starts each Conn on a cache line
}

// connSize is a Conn's size in memory: a multiple of 64 bytes, and a size
// the allocator keeps as such (TestConnSize), so that the line above is
// one cache line.
const (
	connSize = 192
	connPad  = connSize - 144
)

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
// can never reach a descriptor reused by another file. A socket with a
// write in a Batch is closed when the batch has sent it (settle), for the
// same reason.
func (c *Conn) closeSocketLocked() {
	if !c.closed {
		c.closed = true
		if !c.inBatch {
			c.nc.Close()
		}
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

// Writing reports whether a write is waiting for the client, or in a
// Batch; Writable follows when it is done.
func (c *Conn) Writing() bool {
	if c.writing.Load() {
		return true
	}
	if c.batched.Load() {
		// settle clears batched before it reads askedInBatch: if batched
		// still holds after the flag is set, settle will see the flag.
		c.askedInBatch.Store(true)
		return c.batched.Load()
	}
	return false
}

// Write sends b, which holds whole unmasked frames (see AppendText). It
// never blocks: what the socket does not take at once is written by a
// goroutine under the write timeout, and Handler.Writable follows. A
// client that does not take a write within the write timeout, or lets more
// than MaxBacklog wait, is closed with StatusSlow.
func (c *Conn) Write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing != nil {
		return ErrClosing
	}
	return c.writeLocked(b)
}

func (c *Conn) writeLocked(b []byte) error {
	if c.writing.Load() || c.inBatch {
		if len(c.out)+len(b) > c.cfg.MaxBacklog {
			c.overflowLocked()
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
	c.cut = frameEnd(b, 0, n) - n
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

// overflowLocked ends a client whose backlog outgrew MaxBacklog as slow:
// what waits is dropped but the end of the frame on the wire, and the
// close frame follows it once the client takes the write in progress.
func (c *Conn) overflowLocked() {
	if c.closing != nil { // its close frame does not fit: give up
		c.closeSocketLocked()
		return
	}
	c.out = append(c.out[:c.cut], slowCloseFrame...)
	c.setClosingLocked(&CloseError{Code: StatusSlow, Reason: "slow"})
}

var slowCloseFrame = ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(StatusSlow, "slow")))

// flush writes out, blocking, until it is empty.
func (c *Conn) flush() {
	timeout := c.cfg.WriteTimeout
	for {
		c.mu.Lock()
		buf, cut := c.out, c.cut
		c.out, c.cut = nil, 0
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
		c.nc.SetWriteDeadline(time.Now().Add(timeout)) //nolint:errcheck // as above
		if n, err := c.nc.Write(buf); err != nil {
			if !c.stalled(buf, cut, n, err) {
				return
			}
			timeout = c.cfg.CloseTimeout
		}
	}
}

// stalled handles a failed write of buf, of which n bytes went out (the
// first cut ending a frame begun earlier). A client that did not take it
// within the timeout is slow: unless the connection was closing already,
// the frame on the wire is finished and a close frame with StatusSlow
// follows, under the close timeout (true: write them). Otherwise, and on
// TLS, where a timed-out write leaves nothing to write with, the socket is
// closed: the reader ends the connection.
func (c *Conn) stalled(buf []byte, cut, n int, err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if errors.Is(err, os.ErrDeadlineExceeded) && c.closing == nil {
		c.setClosingLocked(&CloseError{Code: StatusSlow, Reason: "slow"})
		if c.fd >= 0 {
			c.out = append(append([]byte(nil), buf[n:frameEnd(buf, cut, n)]...), slowCloseFrame...)
			return true
		}
	}
	c.closeSocketLocked()
	c.writing.Store(false)
	c.out = nil
	return false
}

// frameEnd returns the offset in b at which the frame holding offset at
// ends (at itself when a frame ends there); b holds whole frames from
// offset from on.
func frameEnd(b []byte, from, at int) int {
	end := from
	for end < at && end < len(b) {
		end += frameLen(b[end:])
	}
	return min(max(end, at), len(b))
}

// frameLen is the length of the frame b starts with, header included.
func frameLen(b []byte) int {
	if len(b) < 2 {
		return len(b)
	}
	n, h := int(b[1]&0x7f), 2
	switch {
	case n == 126 && len(b) >= 4:
		n, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case n == 127 && len(b) >= 10:
		n, h = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if b[1]&0x80 != 0 {
		h += 4 // a masking key (a server's frames have none)
	}
	return max(h+n, 1)
}

// Ping sends a protocol ping. It returns ErrNoPong when the previous ping
// got no answer: the caller should close the connection. While a write
// waits for the client it does nothing: a ping would only queue behind
// it, and the write timeout judges that client (StatusSlow).
func (c *Conn) Ping() error {
	if c.Writing() {
		return nil
	}
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
	c.setClosingLocked(e)
	reason := e.Reason
	if e.Remote {
		reason = ""
	}
	if len(reason) > 123 { // a control frame's payload is at most 125 bytes
		reason = reason[:123]
	}
	if c.writeLocked(ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, reason)))) == nil && !c.writing.Load() && !c.inBatch {
		c.shutdownLocked()
	}
}

// setClosingLocked records how the connection ends.
func (c *Conn) setClosingLocked(e *CloseError) {
	c.closing = e
	close(c.done)
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
