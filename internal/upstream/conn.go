package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
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
	tap   ConnTap
	heard atomic.Int64 // unix ns of the last byte received
}

// NewConn wraps ws; tap may be nil.
func NewConn(ws *websocket.Conn, tap ConnTap) *Conn {
	c := &Conn{Conn: ws, tap: tap}
	c.hear()
	return c
}

// Heard is when the connection last received anything: a frame header,
// part of a frame, or a ping (Binance's way of keeping a quiet stream
// alive). Silence watchdogs measure from it, so a large frame that takes
// long to arrive is not taken for a dead peer.
func (c *Conn) Heard() time.Time { return time.Unix(0, c.heard.Load()) }

func (c *Conn) hear() { c.heard.Store(time.Now().UnixNano()) }

// Write sends one message, and shows it to the tap.
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	if c.tap != nil {
		c.tap.Sent(time.Now(), p)
	}
	return c.Conn.Write(ctx, typ, p)
}

// Send writes v as one JSON text message (a subscribe, a ping op); what
// names it in the error.
func (c *Conn) Send(ctx context.Context, what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("send %s: %w", what, err)
	}
	return nil
}

// read reads one message, and shows it to the tap.
func (c *Conn) read(ctx context.Context) ([]byte, error) {
	_, r, err := c.Conn.Reader(ctx)
	if err != nil {
		return nil, err
	}
	c.hear()
	data, err := io.ReadAll(hearing{r, c})
	if err != nil {
		return nil, err
	}
	if c.tap != nil {
		c.tap.Received(time.Now(), data)
	}
	return data, nil
}

// hearing notes the time of every read that brought bytes.
type hearing struct {
	r    io.Reader
	conn *Conn
}

func (h hearing) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.conn.hear()
	}
	return n, err
}
