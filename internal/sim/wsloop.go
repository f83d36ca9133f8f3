package sim

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// WSVenue is how a venue's front-end plays its WebSocket connections. The
// loop (ServeWS) owns the socket, the clock and the faults; a Session
// holds the venue's protocol.
type WSVenue struct {
	Venue     string
	Refused   string               // the body of the 429 a refused connect gets
	ReadLimit int64                // largest client message
	Tick      time.Duration        // how often the loop pushes, in real time
	CloseCode websocket.StatusCode // the code of a close the session asks for
}

// Session is one connection's protocol state. Handle and Frames are called
// under one lock, so the replies and the state Handle sets reach the client
// before any frame a later Frames builds.
type Session interface {
	// Handle answers one client message.
	Handle(data []byte) []string
	// Frames returns what is due at simulated time now; quiet is the real
	// time since the connection last sent a frame (0 when replies go out in
	// this tick). A non-empty closeWith
	// closes the connection with that reason after the frames.
	Frames(now int64, quiet time.Duration) (frames []string, closeWith string)
	// FaultFrames are the venue's malformed and oversized frames; "" for
	// none on this connection.
	FaultFrames() (malformed, oversize string)
}

// ServeWS serves one venue WebSocket connection: refused while the venue
// refuses connects, then open's session, with its first frames, until the
// client leaves, a drop fault ends it or the session closes it. Every tick
// it sends the replies queued, the faults' frames and what the session has
// due; while a silence fault is in force it sends nothing at all.
func (s *Server) ServeWS(w http.ResponseWriter, r *http.Request, v WSVenue, open func(now int64) (Session, []string)) {
	if s.Faults.Active(v.Venue, FaultRefuse) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, v.Refused, http.StatusTooManyRequests)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(v.ReadLimit)
	sess, first := open(s.Clock.Now())
	c := &wsLoop{s: s, v: v, ws: ws, sess: sess, marks: s.Faults.Mark(v.Venue), out: first}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go c.read(ctx, cancel)
	if reason := c.run(ctx); reason != "" {
		ws.Close(v.CloseCode, reason) //nolint:errcheck // closing anyway
	}
	ws.CloseNow() //nolint:errcheck // closing anyway
}

// wsLoop is one connection being served.
type wsLoop struct {
	s     *Server
	v     WSVenue
	ws    *websocket.Conn
	sess  Session
	marks *Mark // the faults that reach every connection, as this one saw them
	mu    sync.Mutex
	out   []string // replies queued by the reader
}

func (c *wsLoop) read(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		c.mu.Lock()
		c.out = append(c.out, c.sess.Handle(data)...)
		c.mu.Unlock()
	}
}

// run pushes every tick until the connection ends; it returns the reason
// of a close the session asked for, or "".
func (c *wsLoop) run(ctx context.Context) string {
	tick := time.NewTicker(c.v.Tick)
	defer tick.Stop()
	dropped := c.s.Faults.Dropped(c.v.Venue)
	sent := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-dropped:
			return ""
		case <-tick.C:
		}
		if c.s.Faults.Active(c.v.Venue, FaultSilence) {
			continue // half-open: nothing at all
		}
		c.faultFrames(ctx)
		c.mu.Lock()
		msgs := c.out
		c.out = nil
		quiet := time.Since(sent)
		if len(msgs) > 0 {
			quiet = 0 // the replies go out now
		}
		more, reason := c.sess.Frames(c.s.Clock.Now(), quiet)
		c.mu.Unlock()
		for _, msg := range append(msgs, more...) {
			if c.ws.Write(ctx, websocket.MessageText, []byte(msg)) != nil {
				return ""
			}
			sent = time.Now()
		}
		if reason != "" {
			return reason
		}
	}
}

// faultFrames sends the venue's malformed and oversized frames once each
// after they are injected.
func (c *wsLoop) faultFrames(ctx context.Context) {
	malformed, oversize := c.sess.FaultFrames()
	if malformed != "" && c.s.Faults.Notice(c.marks, FaultMalformed) {
		c.ws.Write(ctx, websocket.MessageText, []byte(malformed)) //nolint:errcheck // the run loop sees failures
	}
	if oversize != "" && c.s.Faults.Notice(c.marks, FaultOversize) {
		c.ws.Write(ctx, websocket.MessageText, []byte(oversize)) //nolint:errcheck // the run loop sees failures
	}
}
