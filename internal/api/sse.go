package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/candlewire/candlewire/internal/hub"
)

// sseBatch is the most events written between flushes.
const sseBatch = 256

// sseWriteTimeout bounds one flush to a client.
const sseWriteTimeout = 10 * time.Second

// serveSSE streams candle changes as Server-Sent Events:
//
//	id: <cursor>
//	event: candle
//	data: {"type":"candle","stream":…,"cursor":…,"candle":{…}}
//
// Last-Event-ID (or ?since=) resumes after a cursor; without one the
// stream starts with a snapshot of the newest ?snapshot= candles (default
// 1). A comment line is sent every Heartbeat while idle. A slow client gets
// an "error" event with reason slow before the stream ends; a shutdown
// sends "close" with reason going away.
func (a *API) serveSSE(w http.ResponseWriter, r *http.Request) {
	since, resume, err := cursorParam("Last-Event-ID", r.Header.Get("Last-Event-ID"))
	if err == nil && !resume {
		since, resume, err = cursorParam("since", r.URL.Query().Get("since"))
	}
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := a.openSubscription(w, r, since, resume)
	if f == nil {
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := sseStream{w: w, rc: http.NewResponseController(w), f: f, beat: a.cfg.Heartbeat, met: a.met}
	s.buf = append(s.buf, "retry: 1000\n\n"...)
	if f.resync != "" {
		s.buf = appendResync(s.buf, f)
	}
	s.run(r.Context())
}

type sseStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	f    *subscription
	beat time.Duration
	buf  []byte
	met  *apiMetrics
	n    int // events in buf
}

// run writes events until the client goes, falls behind, or the server
// shuts down.
func (s *sseStream) run(ctx context.Context) {
	tick := time.NewTicker(s.beat)
	defer tick.Stop()
	for {
		n, err := s.batch(ctx)
		if err != nil {
			s.end(err)
			return
		}
		if len(s.buf) > 0 {
			if s.flush() != nil {
				return
			}
			tick.Reset(s.beat)
		}
		if n == sseBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.f.sub.Ready():
		case <-s.f.sub.Done():
		case <-tick.C:
			s.buf = append(s.buf, ": heartbeat\n\n"...)
		}
	}
}

// batch appends the ready events; it returns how many.
func (s *sseStream) batch(ctx context.Context) (int, error) {
	n := 0
	for ; n < sseBatch; n++ {
		u, err := s.f.next(ctx, false)
		if err != nil || u == nil {
			return n, err
		}
		s.event(u)
	}
	return n, nil
}

// appendResync appends the event that tells a client its cursor could not
// resume, with the cursor it now has; the snapshots follow.
func appendResync(b []byte, f *subscription) []byte {
	msg, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
		Cursor int64  `json:"cursor"`
	}{"resync", f.resync, f.cursor()})
	b = append(b, "event: resync\ndata: "...)
	b = append(b, msg...)
	return append(b, "\n\n"...)
}

func (s *sseStream) event(u *hub.Update) {
	s.n++
	s.buf = append(s.buf, "id: "...)
	s.buf = strconv.AppendInt(s.buf, s.f.cursor(), 10)
	s.buf = append(s.buf, "\nevent: candle\ndata: "...)
	s.buf = appendMessage(s.buf, u)
	s.buf = append(s.buf, "\n\n"...)
}

func (s *sseStream) flush() error {
	// A client that stops reading blocks the write: give up on it (its
	// hub queue has already ended it as slow, without stalling anyone).
	s.rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout)) //nolint:errcheck // not every writer supports deadlines
	if _, err := s.w.Write(s.buf); err != nil {
		return err
	}
	s.met.sent("sse", s.n, len(s.buf))
	s.buf, s.n = s.buf[:0], 0
	return s.rc.Flush()
}

// end tells the client why the stream ends, when it is the server's doing.
func (s *sseStream) end(err error) {
	switch {
	case errors.Is(err, hub.ErrSlow):
		s.met.ended("sse", "slow")
		s.buf = append(s.buf, "event: error\ndata: {\"code\":4008,\"reason\":\"slow\"}\n\n"...)
	case errors.Is(err, hub.ErrClosed):
		s.met.ended("sse", "going away")
		s.buf = append(s.buf, "event: close\ndata: {\"code\":1001,\"reason\":\"going away\"}\n\n"...)
	default:
		return
	}
	s.flush() //nolint:errcheck // ending anyway
}
