package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
)

// WebSocket close codes beyond RFC 6455's.
const (
	CloseSlow websocket.StatusCode = 4008 // the client fell too far behind; resume from its cursor
)

// Error codes in {"type":"error"} replies.
const (
	codeBadRequest   = 400
	codeTooMany      = 429
	codeUnavailable  = 503
	maxPendingOps    = 4 // ops queued between the reader and the writer; a client sending faster waits (TCP backpressure)
	wsWriteTimeout   = 10 * time.Second
	wsBatchPerWakeup = 256
)

// op is a client message:
//
//	{"op":"subscribe","id":1,"streams":["binance:BTCUSDT@1m"],"since":123,"snapshot":10}
//	{"op":"unsubscribe","id":2,"streams":["binance:BTCUSDT@1m"]}
//	{"op":"ping","id":3}
type op struct {
	Op       string   `json:"op"`
	ID       int64    `json:"id"`
	Streams  []string `json:"streams"`
	Since    *int64   `json:"since"`
	Snapshot *int     `json:"snapshot"`
}

// serveWS runs one WebSocket client: a reader goroutine parses ops, and
// this goroutine is the connection's only writer. Replies:
//
//	{"type":"ack","id":1,"op":"subscribe","streams":[…],"cursor":N}
//	{"type":"candle","stream":…,"cursor":N,"candle":{…}}
//	{"type":"pong","id":3}
//	{"type":"error","id":1,"code":400,"message":"…"}
//
// The connection closes with 4008 "slow" when the client falls behind,
// 1001 "going away" on shutdown, 1009 for an oversized message.
func (a *API) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: a.cfg.Origins})
	if err != nil {
		a.met.rejected("ws", "handshake") // e.g. a foreign Origin; Accept answered the request
		return
	}
	c.SetReadLimit(a.cfg.MaxMessage)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s := &wsSession{a: a, c: c, f: newFeed(a.cfg.Store, a.cfg.Hub), ops: make(chan op, maxPendingOps), readErr: make(chan error, 1)}
	s.stall = time.AfterFunc(time.Hour, func() { c.CloseNow() }) //nolint:errcheck // the writer sees the failure
	s.stall.Stop()
	defer s.stall.Stop()
	defer s.f.Close()
	go s.read(ctx)
	code, reason := s.write(ctx)
	if code != websocket.StatusNormalClosure {
		a.met.ended("ws", reason)
	}
	c.Close(code, reason) //nolint:errcheck // closing anyway
}

type wsSession struct {
	a       *API
	c       *websocket.Conn
	f       *feed
	ops     chan op
	readErr chan error
	buf     []byte
	stall   *time.Timer // closes the connection when a write blocks too long
}

// read parses client messages into ops until the connection fails.
func (s *wsSession) read(ctx context.Context) {
	for {
		_, data, err := s.c.Read(ctx)
		if err != nil {
			s.readErr <- err
			return
		}
		var o op
		if err := json.Unmarshal(data, &o); err != nil || o.Op == "" {
			o = op{Op: "invalid"}
		}
		select {
		case s.ops <- o:
		case <-ctx.Done():
			return
		}
	}
}

// write is the connection's only writer; it returns the close code and
// reason.
func (s *wsSession) write(ctx context.Context) (websocket.StatusCode, string) {
	ping := time.NewTicker(s.a.cfg.PingEvery)
	defer ping.Stop()
	for {
		if code, reason, done := s.deliver(ctx); done {
			return code, reason
		}
		select {
		case <-ctx.Done():
			return websocket.StatusGoingAway, "going away"
		case err := <-s.readErr:
			return readClose(err)
		case o := <-s.ops:
			if err := s.handle(ctx, o); err != nil {
				return websocket.StatusInternalError, "write failed"
			}
		case <-s.f.sub.Ready():
		case <-s.f.sub.Done():
		case <-ping.C:
			go s.ping(ctx)
		}
	}
}

// deliver sends the changes that are ready; done is true when the
// connection must close.
func (s *wsSession) deliver(ctx context.Context) (websocket.StatusCode, string, bool) {
	for range wsBatchPerWakeup {
		u, err := s.f.next(ctx, false)
		switch {
		case errors.Is(err, hub.ErrSlow):
			return CloseSlow, "slow", true
		case errors.Is(err, hub.ErrClosed):
			return websocket.StatusGoingAway, "going away", true
		case err != nil:
			return websocket.StatusInternalError, "store unavailable", true
		case u == nil:
			return 0, "", false
		}
		s.buf = appendMessage(s.buf[:0], u)
		if err := s.send(ctx, s.buf); err != nil {
			return websocket.StatusInternalError, "write failed", true
		}
		s.a.met.sent("ws", 1, len(s.buf))
	}
	return 0, "", false
}

// send writes one message. A client that stops reading blocks the write;
// the stall timer then closes its connection. (A context with a deadline
// per write costs more than the write at ten thousand clients.)
func (s *wsSession) send(ctx context.Context, b []byte) error {
	s.stall.Reset(wsWriteTimeout)
	defer s.stall.Stop()
	return s.c.Write(ctx, websocket.MessageText, b)
}

// ping checks the peer with a protocol ping; a dead peer's connection is
// closed.
func (s *wsSession) ping(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, s.a.cfg.PingEvery)
	defer cancel()
	if err := s.c.Ping(pctx); err != nil && ctx.Err() == nil {
		s.c.Close(websocket.StatusPolicyViolation, "no pong") //nolint:errcheck // closing anyway
	}
}

// handle carries out one op and replies.
func (s *wsSession) handle(ctx context.Context, o op) error {
	switch o.Op {
	case "ping":
		return s.send(ctx, []byte(`{"type":"pong","id":`+strconv.FormatInt(o.ID, 10)+`}`))
	case "subscribe", "unsubscribe":
		streams, code, err := s.streams(o)
		if err != nil {
			return s.replyError(ctx, o.ID, code, err.Error())
		}
		if o.Op == "unsubscribe" {
			s.f.remove(streams)
		} else if err := s.subscribe(ctx, o, streams); err != nil {
			return s.replyError(ctx, o.ID, codeUnavailable, err.Error())
		}
		return s.ack(ctx, o, streams)
	}
	return s.replyError(ctx, o.ID, codeBadRequest, fmt.Sprintf("unknown op %q (want subscribe, unsubscribe or ping)", o.Op))
}

// streams reads and checks an op's streams.
func (s *wsSession) streams(o op) ([]hub.Stream, int, error) {
	if len(o.Streams) == 0 {
		return nil, codeBadRequest, errors.New("no streams given (want MARKET@INTERVAL, e.g. binance:BTCUSDT@1m)")
	}
	var out []hub.Stream
	for _, name := range o.Streams {
		st, err := market.ParseSeries(name)
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

func (s *wsSession) subscribe(ctx context.Context, o op, streams []hub.Stream) error {
	switch {
	case o.Since != nil && *o.Since >= 0:
		s.f.resume(streams, *o.Since)
		return nil
	case o.Snapshot != nil:
		return s.f.snapshot(ctx, streams, *o.Snapshot)
	}
	return s.f.snapshot(ctx, streams, 1)
}

func (s *wsSession) ack(ctx context.Context, o op, streams []hub.Stream) error {
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
	}{"ack", o.ID, o.Op, names, s.f.cursor()})
	return s.send(ctx, b)
}

func (s *wsSession) replyError(ctx context.Context, id int64, code int, msg string) error {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		ID      int64  `json:"id"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{"error", id, code, msg})
	return s.send(ctx, b)
}

// readClose turns a read failure into the close to send.
func readClose(err error) (websocket.StatusCode, string) {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return websocket.StatusNormalClosure, ""
	case errors.Is(err, websocket.ErrMessageTooBig):
		return websocket.StatusMessageTooBig, "message too big"
	}
	return websocket.StatusPolicyViolation, err.Error()
}
