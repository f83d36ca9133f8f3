package upstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// ErrSilent ends a session whose peer went quiet (half-open connection).
var ErrSilent = errors.New("connection silent")

// Frame is one message read from a connection, or the error that ended it.
type Frame struct {
	Data []byte
	Err  error
}

// Reader reads a connection on its own goroutine so a session can wait on
// frames and timers together. Stop closes the connection and waits for the
// goroutine to end.
type Reader struct {
	C    <-chan Frame
	conn *Conn
	wg   sync.WaitGroup
	once sync.Once
}

// NewReader starts reading conn. The channel closes after the frame that
// carries the read error.
func NewReader(ctx context.Context, conn *Conn) *Reader {
	ch := make(chan Frame, 64)
	r := &Reader{C: ch, conn: conn}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(ch)
		for {
			data, err := conn.read(ctx)
			select {
			case ch <- Frame{Data: data, Err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// Stop closes the connection and waits for the reading goroutine.
func (r *Reader) Stop() {
	r.once.Do(func() { r.conn.CloseNow() }) //nolint:errcheck // closing is the point
	r.wg.Wait()
}

// Explain returns the error that ended the reading, if it ends within
// wait of the last frame (and 10 waits in all), and otherwise werr. After
// a write fails on a broken connection the read side usually knows the
// cause (an oversized frame, a close from the peer) where the write sees
// only "use of closed network connection". Frames that arrived before the
// end are still handed to handle, in order: a peer that sent its data and
// closed before a subscribe or ping went out (a replay at full speed)
// loses nothing.
func (r *Reader) Explain(werr error, wait time.Duration, handle func([]byte) error) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	limit := time.Now().Add(10 * wait)
	for {
		select {
		case fr, ok := <-r.C:
			if !ok {
				return werr
			}
			if fr.Err != nil {
				return fmt.Errorf("read: %w", fr.Err)
			}
			if err := handle(fr.Data); err != nil {
				return err
			}
			t.Reset(min(wait, time.Until(limit))) // frames still coming: the end is near
		case <-t.C:
			return werr
		}
	}
}

// TextPing reads r's frames into handle until a frame fails, handle
// returns an error or ctx ends, keeping a quiet connection alive the way
// BitMEX and OKX want it: after idle without a frame it sends the text
// "ping", and a connection that sends nothing within pongWait after it is
// dead (ErrSilent).
func TextPing(ctx context.Context, conn *Conn, r *Reader, idle, pongWait time.Duration, handle func([]byte) error) error {
	timer := time.NewTimer(idle)
	defer timer.Stop()
	pinged := false
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case at := <-timer.C:
			if quiet := at.Sub(conn.Heard()); quiet < idle {
				// A frame is still arriving: the peer is not quiet.
				pinged = false
				timer.Reset(idle - quiet)
				continue
			}
			if pinged {
				return fmt.Errorf("no pong within %s of a ping: %w", pongWait, ErrSilent)
			}
			if err := conn.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
				return r.Explain(fmt.Errorf("send ping: %w", err), pongWait, handle)
			}
			pinged = true
			timer.Reset(pongWait)
		case fr, ok := <-r.C:
			if !ok {
				return errors.New("reader stopped")
			}
			if fr.Err != nil {
				return fmt.Errorf("read: %w", fr.Err)
			}
			pinged = false
			timer.Reset(idle)
			if err := handle(fr.Data); err != nil {
				return err
			}
		}
	}
}

// Watch reads r's frames into handle until a frame fails, handle returns
// an error or ctx ends, for venues whose liveness is a stream of frames
// (Kraken's and Coinbase's heartbeats, Bybit's pongs). Every tick it checks
// the connection: one that received no byte for silence is dead
// (ErrSilent); otherwise keepAlive, when not nil, runs (Bybit's op ping),
// and if it fails on a broken connection the reader's cause is reported.
func Watch(ctx context.Context, r *Reader, every, silence time.Duration, keepAlive func() error, handle func([]byte) error) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
			if quiet := time.Since(r.conn.Heard()); quiet > silence {
				return fmt.Errorf("no byte for %s: %w", quiet.Round(time.Millisecond), ErrSilent)
			}
			if keepAlive != nil {
				if err := keepAlive(); err != nil {
					return r.Explain(err, every, handle)
				}
			}
		case fr, ok := <-r.C:
			if !ok {
				return errors.New("reader stopped")
			}
			if fr.Err != nil {
				return fmt.Errorf("read: %w", fr.Err)
			}
			if err := handle(fr.Data); err != nil {
				return err
			}
		}
	}
}
