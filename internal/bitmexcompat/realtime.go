package bitmexcompat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexwire"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/wsconn"
)

const (
	maxMessage    = 16 << 10 // BitMEX requests are small
	maxTopics     = 100
	maxPendingOps = 4 // client messages waiting for the writer; a client sending faster waits (TCP backpressure)
	pingEvery     = 20 * time.Second
)

// topic is one subscription: a table of a symbol.
type topic struct {
	table, symbol string
}

func (t topic) String() string { return t.table + ":" + t.symbol }

// rtConn is one /realtime connection. wsconn reads the client's frames
// (and enforces RFC 6455: 1002, 1007, 1009); run, on the request's
// goroutine, is the only writer and writes only while the client keeps up.
type rtConn struct {
	s       *Server
	c       *wsconn.Conn
	sub     *hub.Sub
	ts      *tradeSub
	topics  map[topic]market.Market
	lastBin map[topic]int64 // open time of the last bin inserted
	ops     chan []byte     // client messages, from the reader
	wake    chan struct{}   // a write that waited for the client ended
	closed  chan struct{}   // closed when the connection has ended
	ctx     context.Context // ends with the connection; bounds store reads
	cancel  context.CancelFunc
}

// serveRealtime speaks BitMEX's /realtime protocol.
func (s *Server) serveRealtime(w http.ResponseWriter, r *http.Request) {
	release, ok := s.admit(r)
	if !ok {
		restError(w, http.StatusTooManyRequests, "too many connections from this address")
		return
	}
	defer release()
	c, err := s.upgrader.Upgrade(w, r)
	if err != nil {
		return // Upgrade answered the request
	}
	rc := &rtConn{s: s, c: c, sub: s.cfg.Hub.Subscribe(), ts: newTradeSub(), topics: map[topic]market.Market{},
		lastBin: map[topic]int64{}, ops: make(chan []byte, maxPendingOps), wake: make(chan struct{}, 1), closed: make(chan struct{})}
	rc.ctx, rc.cancel = context.WithCancel(r.Context())
	defer rc.release()
	c.Serve(rc)
	if code, reason := rc.run(r.URL.Query().Get("subscribe")); code != 0 {
		c.Close(code, reason)
	}
	<-rc.closed
}

// admit applies Config.Admit.
func (s *Server) admit(r *http.Request) (func(), bool) {
	if s.cfg.Admit == nil {
		return func() {}, true
	}
	return s.cfg.Admit(r)
}

func (rc *rtConn) release() {
	rc.sub.Close()
	for t, m := range rc.topics {
		if t.table == "trade" {
			rc.s.trades.remove(m, rc.ts)
		}
	}
}

// Message queues a client message for run; a client with maxPendingOps
// unanswered waits.
func (rc *rtConn) Message(data []byte) {
	select {
	case rc.ops <- data:
	case <-rc.c.Closing():
	}
}

// Writable wakes run after a write that waited for the client.
func (rc *rtConn) Writable() {
	select {
	case rc.wake <- struct{}{}:
	default:
	}
}

// Closed ends run: the socket is closed.
func (rc *rtConn) Closed(error) {
	rc.cancel()
	close(rc.closed)
}

// run answers the client until the connection must close, returning the
// close code and reason; code 0 when it is closing already. While a write
// waits for the client nothing more is read from the queues: trades and
// bins pile up there until the client is ended as slow.
func (rc *rtConn) run(urlTopics string) (ws.StatusCode, string) {
	if err := rc.welcome(urlTopics); err != nil {
		return writeFailed(err)
	}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		ops, ready, trades := rc.ops, rc.sub.Ready(), rc.ts.c
		if rc.c.Writing() { // Writable wakes the loop
			ops, ready, trades = nil, nil, nil
		}
		var err error
		select {
		case <-rc.closed:
			return 0, ""
		case <-rc.wake:
		case <-ping.C:
			if err = rc.c.Ping(); errors.Is(err, wsconn.ErrNoPong) {
				return wsconn.StatusPolicy, "no pong"
			}
		case data := <-ops:
			err = rc.handle(data)
		case <-ready:
			err = rc.bins()
		case t := <-trades:
			err = rc.trade(t)
		case <-rc.ts.slow:
			return wsconn.StatusSlow, "slow"
		case <-rc.sub.Done():
			if errors.Is(rc.sub.Err(), hub.ErrSlow) {
				return wsconn.StatusSlow, "slow"
			}
			return wsconn.StatusGoingAway, "going away"
		}
		if err != nil {
			return writeFailed(err)
		}
	}
}

// writeFailed is the close after a failed write.
func writeFailed(err error) (ws.StatusCode, string) {
	if errors.Is(err, wsconn.ErrClosing) {
		return 0, ""
	}
	return wsconn.StatusInternal, "write failed" // the socket is gone; closing ends the reader
}

// welcome sends BitMEX's welcome and subscribes the URL's topics.
func (rc *rtConn) welcome(urlTopics string) error {
	welcome := fmt.Sprintf(`{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0-candlewire","timestamp":"%s","docs":"https://www.bitmex.com/app/wsAPI","heartbeatEnabled":false}`,
		bitmexwire.Timestamp(time.Now().UnixMilli()))
	if err := rc.send([]byte(welcome)); err != nil || urlTopics == "" {
		return err
	}
	args := strings.Split(urlTopics, ",")
	return rc.subscribe(args, opRequest("subscribe", args))
}

func (rc *rtConn) send(b []byte) error {
	return rc.c.Write(wsconn.AppendText(make([]byte, 0, len(b)+10), b))
}
