package upstream

import (
	"context"
	"time"

	"github.com/coder/websocket"
)

// Tap sees every connection of a venue, as `candlewire record` writes
// them: Open is called on each connect and returns what sees its frames.
type Tap interface {
	Open(url string, at time.Time) ConnTap
}

// ConnTap sees one connection's frames, each with the time it was sent or
// received, until Close. Sent and Received may be called from two
// goroutines at once and must not block for long.
type ConnTap interface {
	Sent(at time.Time, msg []byte)
	Received(at time.Time, msg []byte)
	Close()
}

// Conn is one venue connection: a WebSocket whose frames, both ways, go to
// the tap when there is one. Sessions write with its Write and read with a
// Reader.
type Conn struct {
	*websocket.Conn
	tap ConnTap
}

// NewConn wraps ws; tap may be nil.
func NewConn(ws *websocket.Conn, tap ConnTap) *Conn { return &Conn{Conn: ws, tap: tap} }

// Write sends one message, and shows it to the tap.
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	if c.tap != nil {
		c.tap.Sent(time.Now(), p)
	}
	return c.Conn.Write(ctx, typ, p)
}

// read reads one message, and shows it to the tap.
func (c *Conn) read(ctx context.Context) ([]byte, error) {
	_, data, err := c.Conn.Read(ctx)
	if err == nil && c.tap != nil {
		c.tap.Received(time.Now(), data)
	}
	return data, err
}
