package upstream

import (
	"context"
	"errors"
	"sync"
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
