package bitmexcompat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/bitmex"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
)

const (
	maxMessage   = 16 << 10 // BitMEX requests are small
	writeTimeout = 10 * time.Second
	maxTopics    = 100
)

// topic is one subscription: a table of a symbol.
type topic struct {
	table, symbol string
}

func (t topic) String() string { return t.table + ":" + t.symbol }

// rtConn is one /realtime connection; write is its only writer.
type rtConn struct {
	s       *Server
	c       *websocket.Conn
	sub     *hub.Sub
	ts      *tradeSub
	topics  map[topic]market.Market
	lastBin map[topic]int64 // open time of the last bin inserted
	ops     chan []byte
	readErr chan error
}

// serveRealtime speaks BitMEX's /realtime protocol.
func (s *Server) serveRealtime(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.Origins})
	if err != nil {
		return
	}
	c.SetReadLimit(maxMessage)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rc := &rtConn{s: s, c: c, sub: s.cfg.Hub.Subscribe(), ts: newTradeSub(), topics: map[topic]market.Market{},
		lastBin: map[topic]int64{}, ops: make(chan []byte, 64), readErr: make(chan error, 1)}
	defer rc.close()
	go rc.read(ctx)
	code, reason := rc.run(ctx, r.URL.Query().Get("subscribe"))
	c.Close(code, reason) //nolint:errcheck // closing anyway
}

func (rc *rtConn) close() {
	rc.sub.Close()
	for t, m := range rc.topics {
		if t.table == "trade" {
			rc.s.trades.remove(m, rc.ts)
		}
	}
}

// read hands client messages to the writer until the connection fails.
func (rc *rtConn) read(ctx context.Context) {
	for {
		_, data, err := rc.c.Read(ctx)
		if err == nil {
			select {
			case rc.ops <- data:
				continue
			default:
				err = errors.New("too many requests in flight")
			}
		}
		rc.readErr <- err
		return
	}
}

func (rc *rtConn) run(ctx context.Context, urlTopics string) (websocket.StatusCode, string) {
	welcome := fmt.Sprintf(`{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0-candlewire","timestamp":"%s","docs":"https://www.bitmex.com/app/wsAPI","heartbeatEnabled":false}`,
		bitmex.Timestamp(time.Now().UnixMilli()))
	if err := rc.send(ctx, []byte(welcome)); err != nil {
		return websocket.StatusInternalError, "write failed"
	}
	if urlTopics != "" {
		args := strings.Split(urlTopics, ",")
		if err := rc.subscribe(ctx, args, opRequest("subscribe", args)); err != nil {
			return websocket.StatusInternalError, "write failed"
		}
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return websocket.StatusGoingAway, "going away"
		case e := <-rc.readErr:
			if errors.Is(e, websocket.ErrMessageTooBig) {
				return websocket.StatusMessageTooBig, "message too big"
			}
			return websocket.StatusNormalClosure, ""
		case data := <-rc.ops:
			err = rc.handle(ctx, data)
		case <-rc.sub.Ready():
			err = rc.bins(ctx)
		case <-rc.sub.Done():
			if errors.Is(rc.sub.Err(), hub.ErrSlow) {
				return 4008, "slow"
			}
			return websocket.StatusGoingAway, "going away"
		case t := <-rc.ts.c:
			err = rc.trade(ctx, t)
		case <-rc.ts.slow:
			return 4008, "slow"
		}
		if err != nil {
			return websocket.StatusInternalError, "write failed"
		}
	}
}

func (rc *rtConn) send(ctx context.Context, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return rc.c.Write(wctx, websocket.MessageText, b)
}

// handle answers "ping" and the ops subscribe and unsubscribe.
func (rc *rtConn) handle(ctx context.Context, data []byte) error {
	if strings.TrimSpace(string(data)) == "ping" {
		return rc.send(ctx, []byte("pong"))
	}
	var req struct {
		Op   string          `json:"op"`
		Args json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return rc.fail(ctx, "Unable to parse incoming data as JSON. Please see the documentation at https://www.bitmex.com/app/wsAPI.", nil)
	}
	args := bitmex.ParseArgs(req.Args)
	switch req.Op {
	case "subscribe":
		return rc.subscribe(ctx, args, opRequest(req.Op, args))
	case "unsubscribe":
		return rc.unsubscribe(ctx, args, opRequest(req.Op, args))
	}
	return rc.fail(ctx, fmt.Sprintf("Unknown or unsupported op: %s", req.Op), opRequest(req.Op, args))
}

func opRequest(op string, args []string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"op": op, "args": args})
	return b
}

// fail sends a BitMEX-shaped 400 error.
func (rc *rtConn) fail(ctx context.Context, msg string, request json.RawMessage) error {
	if request == nil {
		request = json.RawMessage("{}")
	}
	b, _ := json.Marshal(struct {
		Status  int             `json:"status"`
		Error   string          `json:"error"`
		Meta    struct{}        `json:"meta"`
		Request json.RawMessage `json:"request"`
	}{Status: 400, Error: msg, Request: request})
	return rc.send(ctx, b)
}
