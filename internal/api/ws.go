package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/runq"
	"github.com/candlewire/candlewire/internal/wsconn"
)

// WebSocket close codes beyond RFC 6455's.
const (
	CloseSlow ws.StatusCode = 4008 // the client fell too far behind; resume from its cursor
)

// Error codes in {"type":"error"} replies.
const (
	codeBadRequest   = 400
	codeTooMany      = 429
	codeUnavailable  = 503
	maxPendingOps    = 4 // ops queued between the reader and the writer; a client sending faster waits (TCP backpressure)
	wsBatchPerWakeup = 256
	wsBatchBytes     = 64 << 10
)

// op is a client message:
//
//	{"op":"subscribe","id":1,"streams":["binance:BTCUSDT@1m"],"since":123,"snapshot":10}
//	{"op":"unsubscribe","id":2,"streams":["binance:BTCUSDT@1m"]}
//	{"op":"ping","id":3}
//
// since and snapshot are read by hand, so that a bad value is named.
type op struct {
	Op       string          `json:"op"`
	ID       int64           `json:"id"`
	Streams  []string        `json:"streams"`
	Since    json.RawMessage `json:"since"`
	Snapshot json.RawMessage `json:"snapshot"`
}

// serveWS accepts one WebSocket client. Nothing waits on its behalf but a
// small reader goroutine: the session runs on the API's shared writers
// whenever an op arrives, a change is queued for it, or a slow write ends.
// Replies:
//
//	{"type":"ack","id":1,"op":"subscribe","streams":[…],"cursor":N}
//	{"type":"candle","stream":…,"cursor":N,"candle":{…}}
//	{"type":"pong","id":3}
//	{"type":"error","id":1,"code":400,"message":"…"}
//
// The connection closes with 4008 "slow" when the client falls behind,
// 1001 "going away" on shutdown, 1009 for an oversized message, 1008 "no
// pong" when the client stops answering protocol pings.
func (a *API) serveWS(w http.ResponseWriter, r *http.Request) {
	release, ok := a.guard.stream(r)
	if !ok {
		a.met.rejected("ws", "per-ip-limit")
		httpError(w, http.StatusTooManyRequests, "too many connections from this address")
		return
	}
	c, err := a.upgrader.Upgrade(w, r)
	if err != nil {
		release()
		a.met.rejected("ws", "handshake") // e.g. a foreign Origin; Upgrade answered the request
		return
	}
	a.met.open("ws", 1)
	s := &wsSession{a: a, c: c, release: release, ops: make(chan []byte, maxPendingOps)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	a.writers.Init(&s.job, s)
	a.cfg.Hub.SubscribeIn(&s.hs)
	s.hs.OnReady(s)
	s.f.init(a.cfg.Store, &s.hs)
	s.ping = time.AfterFunc(a.cfg.PingEvery, s.pingTick)
	c.Serve(s)
}

// wsSession is one WebSocket client. A fan-out runs thousands of sessions
// in turn, so what a delivery reads is kept together, in one allocation:
// the job, the session's state (in the job's cache line), the hub's
// subscriber and the subscription.
type wsSession struct {
	job   runq.Job
	mu    sync.Mutex // one step at a time, and against Closed
	ended bool
	nops  atomic.Int32 // ops in the channel, or about to be (read before touching it)
	c     *wsconn.Conn
	batch *wsconn.Batch // the worker's (a writer's, or a fan-out part's), during a step
	hs    hub.Sub
	f     subscription

	a       *API
	release func()
	ops     chan []byte // client messages, from the reader
	ping    *time.Timer
	ctx     context.Context // ends with the connection; bounds store reads
	cancel  context.CancelFunc
}

// Message queues a client message for the session's next step; a client
// with maxPendingOps unanswered waits.
func (s *wsSession) Message(data []byte) {
	select {
	case s.ops <- data:
		s.nops.Add(1) // (a step that takes it first brings the count below zero a moment)
		s.job.Schedule()
	case <-s.c.Closing():
	}
}

// Schedule runs the session's next step soon (hub.Scheduler).
func (s *wsSession) Schedule() { s.job.Schedule() }

// Writable continues delivery after a write that waited for the client.
func (s *wsSession) Writable() { s.job.Schedule() }

// Closed releases the session's subscription and resources.
func (s *wsSession) Closed(err error) {
	s.mu.Lock()
	s.ended = true
	s.f.Close()
	s.mu.Unlock()
	s.cancel()
	s.ping.Stop()
	s.release()
	s.a.met.open("ws", -1)
	var ce *wsconn.CloseError
	switch {
	case errors.As(err, &ce) && (ce.Remote || ce.Code == wsconn.StatusNormal):
	case ce != nil:
		s.a.met.ended("ws", ce.Reason)
	default:
		s.a.met.ended("ws", "connection lost")
	}
}

// pingTick sends a protocol ping, closing a client that did not answer
// the last one.
func (s *wsSession) pingTick() {
	if err := s.c.Ping(); errors.Is(err, wsconn.ErrNoPong) {
		s.c.Close(wsconn.StatusPolicy, "no pong")
		return
	}
	s.ping.Reset(s.a.cfg.PingEvery)
}

// Run is a step of the session, on a shared writer or in a fan-out's part
// (then with an inline batch, and only what does not wait): it answers
// queued ops, then writes the changes that are ready, as few writes as
// possible, into the worker's batch (sent with other sessions' in one
// system call).
func (s *wsSession) Run(b runq.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var here bool
	switch b := b.(type) {
	case *wsconn.Batch:
		s.batch = b
	case inline:
		s.batch, here = b.Batch, true
	}
	defer func() { s.batch, s.f.noReads = nil, false }()
	if s.ended || s.c.Writing() { // Writable schedules the next step
		return
	}
	ops := s.nops.Load() != 0
	if here && (ops || s.f.readsStore()) { // those wait: a worker does them
		s.job.Schedule()
		return
	}
	s.f.noReads = here
	if s.batch.Pending() && (ops || s.f.readsStore()) {
		s.batch.Flush() // other clients' frames do not wait for this one's store reads
	}
	for i := 0; ops && i < maxPendingOps; i++ {
		select {
		case data := <-s.ops:
			s.nops.Add(-1)
			if err := s.handle(s.ctx, data); err != nil {
				return
			}
			continue
		default:
		}
		break
	}
	if code, reason, done := s.deliver(s.ctx); done {
		s.c.Close(code, reason)
	}
}

// scratch holds the frames of one step while they are gathered.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// deliver writes the changes that are ready; done is true when the
// connection must close.
func (s *wsSession) deliver(ctx context.Context) (ws.StatusCode, string, bool) {
	var one []byte // a lone frame is written as it is, shared by every client
	var buf *[]byte
	defer func() {
		if buf != nil {
			*buf = (*buf)[:0]
			scratch.Put(buf)
		}
	}()
	n, size := 0, 0
	for ; n < wsBatchPerWakeup && size < wsBatchBytes; n++ {
		u, err := s.f.next(ctx, false)
		if err == errWouldRead { // in a fan-out's part, which does not wait for the store: a worker reads it
			s.job.Schedule()
			break
		}
		if code, reason, done := nextClose(err); done {
			s.flush(one, buf, n, size)
			return code, reason, true
		}
		if u == nil {
			break
		}
		frame := u.Shared("ws", wsFrame)
		one, buf = gather(one, buf, frame)
		size += len(frame)
	}
	if n == wsBatchPerWakeup || size >= wsBatchBytes {
		s.job.Schedule() // more may be ready
	}
	if err := s.flush(one, buf, n, size); err != nil {
		return wsconn.StatusInternal, "write failed", true
	}
	return 0, "", false
}

// gather adds frame to a step's frames: a lone frame as it is, several
// copied into a scratch buffer.
func gather(one []byte, buf *[]byte, frame []byte) ([]byte, *[]byte) {
	switch {
	case one == nil && buf == nil:
		one = frame
	case buf == nil:
		buf = scratch.Get().(*[]byte)
		*buf = append(append(*buf, one...), frame...)
	default:
		*buf = append(*buf, frame...)
	}
	return one, buf
}

// nextClose turns the subscription's error into the close to send.
func nextClose(err error) (ws.StatusCode, string, bool) {
	switch {
	case err == nil:
		return 0, "", false
	case errors.Is(err, hub.ErrSlow):
		return CloseSlow, "slow", true
	case errors.Is(err, hub.ErrClosed):
		return wsconn.StatusGoingAway, "going away", true
	}
	return wsconn.StatusInternal, "store unavailable", true
}

func (s *wsSession) flush(one []byte, buf *[]byte, n, size int) error {
	b := one
	if buf != nil {
		b = *buf
	}
	if len(b) == 0 {
		return nil
	}
	s.a.met.sent("ws", n, size)
	return s.c.WriteIn(s.batch, b, buf != nil) // the scratch buffer goes back to its pool at once
}

// wsFrame is an update's WebSocket frame.
func wsFrame(u *hub.Update) []byte {
	msg := appendMessage(make([]byte, 0, 64+len(u.JSON)), u)
	return wsconn.AppendText(make([]byte, 0, len(msg)+4), msg)
}

// send writes one reply message.
func (s *wsSession) send(msg []byte) error {
	return s.c.Write(wsconn.AppendText(make([]byte, 0, len(msg)+4), msg))
}

// handle carries out one client message and replies.
func (s *wsSession) handle(ctx context.Context, data []byte) error {
	o, err := parseOp(data)
	if err != nil {
		return s.replyError(o.ID, codeBadRequest, err.Error())
	}
	switch o.Op {
	case "ping":
		return s.send([]byte(`{"type":"pong","id":` + strconv.FormatInt(o.ID, 10) + `}`))
	case "subscribe", "unsubscribe":
		streams, code, err := s.streams(o)
		if err == nil && o.Op == "unsubscribe" {
			s.f.remove(streams)
		} else if err == nil {
			code, err = s.subscribe(ctx, o, streams)
		}
		if err != nil {
			return s.replyError(o.ID, code, err.Error())
		}
		return s.ack(o, streams)
	case "":
		return s.replyError(o.ID, codeBadRequest, "no op given (want subscribe, unsubscribe or ping)")
	}
	return s.replyError(o.ID, codeBadRequest, fmt.Sprintf("unknown op %q (want subscribe, unsubscribe or ping)", clip(o.Op)))
}

// parseOp decodes a client message, saying what is wrong with one that
// cannot be read. Fields read before a mistake (the id) are kept.
func parseOp(data []byte) (op, error) {
	var o op
	err := json.Unmarshal(data, &o)
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return o, fmt.Errorf("message is a JSON %s, want an object such as {\"op\":\"ping\",\"id\":1}", te.Value)
		}
		return o, fmt.Errorf("field %q is a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	if err != nil {
		return o, fmt.Errorf("message is not valid JSON: %w", err)
	}
	return o, nil
}

// streams reads and checks an op's streams.
func (s *wsSession) streams(o op) ([]hub.Stream, int, error) {
	if len(o.Streams) == 0 {
		return nil, codeBadRequest, errors.New("no streams given (want MARKET@INTERVAL, e.g. binance:BTCUSDT@1m)")
	}
	if len(o.Streams) > s.a.cfg.MaxStreams {
		return nil, codeTooMany, fmt.Errorf("%d streams given; at most %d per connection", len(o.Streams), s.a.cfg.MaxStreams)
	}
	out := make([]hub.Stream, 0, len(o.Streams))
	for _, name := range o.Streams {
		st, err := s.a.stream(name)
		if err != nil {
			return nil, codeBadRequest, err
		}
		out = append(out, st)
	}
	if o.Op == "subscribe" && len(s.f.newOnly(out))+len(s.f.streams) > s.a.cfg.MaxStreams {
		return nil, codeTooMany, fmt.Errorf("at most %d streams per connection", s.a.cfg.MaxStreams)
	}
	return out, 0, nil
}

// subscribe adds streams, resuming after since or starting with a
// snapshot; it returns the error code of a failure.
func (s *wsSession) subscribe(ctx context.Context, o op, streams []hub.Stream) (int, error) {
	since, resume, err := opCursor(o.Since)
	n, err2 := opSnapshot(o.Snapshot)
	if err = errors.Join(err, err2); err != nil {
		return codeBadRequest, err
	}
	if err = s.f.open(ctx, streams, since, resume, n); err != nil {
		return statusOf(err), err
	}
	return 0, nil
}

// opCursor reads an op's since: absent or null is none.
func opCursor(raw json.RawMessage) (int64, bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("since %s: want a non-negative integer cursor from an earlier message", clip(string(raw)))
	}
	return n, true, nil
}

// opSnapshot reads an op's snapshot: absent or null is 1.
func opSnapshot(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 1, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 0 || n > maxSnapshot {
		return 0, fmt.Errorf("snapshot %s: want an integer from 0 to %d", clip(string(raw)), maxSnapshot)
	}
	return n, nil
}

func (s *wsSession) ack(o op, streams []hub.Stream) error {
	names := make([]string, len(streams))
	for i, st := range streams {
		names[i] = st.String()
	}
	b, _ := json.Marshal(struct {
		Type    string   `json:"type"`
		ID      int64    `json:"id"`
		Op      string   `json:"op"`
		Streams []string `json:"streams"`
		Cursor  int64    `json:"cursor"`
		Resync  string   `json:"resync,omitempty"`
	}{"ack", o.ID, o.Op, names, s.f.cursor(), s.f.resync})
	s.f.resync = ""
	return s.send(b)
}

func (s *wsSession) replyError(id int64, code int, msg string) error {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		ID      int64  `json:"id"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{"error", id, code, msg})
	return s.send(b)
}
