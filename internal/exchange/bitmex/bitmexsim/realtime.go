package bitmexsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexwire"
	"github.com/candlewire/candlewire/internal/sim"
)

const tickReal = 20 * time.Millisecond

// symState is one symbol's subscriptions on one connection.
type symState struct {
	in     *sim.Instrument
	trades bool
	seq    int64            // last trade sent
	bins   map[string]int64 // bin table -> end stamp of the last bin sent
}

type rtConn struct {
	fe    *FrontEnd
	marks *sim.Mark // the faults that reach every connection, as this one saw them
	ws    *websocket.Conn
	mu    sync.Mutex
	syms  map[string]*symState
	out   []string
}

func (fe *FrontEnd) serveRealtime(w http.ResponseWriter, r *http.Request) {
	if fe.s.Faults.Active(Venue, sim.FaultRefuse) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"Rate limit exceeded, retry in 1 seconds.","name":"HTTPError"}}`)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(64 << 10)
	c := &rtConn{fe: fe, ws: ws, marks: fe.s.Faults.Mark(Venue), syms: map[string]*symState{}}
	now := fe.s.Clock.Now()
	c.queue(fmt.Sprintf(`{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0","timestamp":"%s","docs":"https://www.bitmex.com/app/wsAPI","heartbeatEnabled":false,"appName":"candlewire-sim"}`, bitmexwire.Timestamp(now)))
	if q := r.URL.Query().Get("subscribe"); q != "" {
		args := strings.Split(q, ",")
		c.subscribe(args, args)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go c.read(ctx, cancel)
	c.run(ctx)
	ws.CloseNow()
}

// maxQueued bounds the replies waiting for one connection; a client that
// makes the server queue more is disconnected.
const maxQueued = 10_000

func (c *rtConn) queue(msgs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.out)+len(msgs) > maxQueued {
		c.ws.Close(websocket.StatusPolicyViolation, "too many requests") //nolint:errcheck // closing anyway
		return
	}
	c.out = append(c.out, msgs...)
}

// subscribe acks each topic and sends its partial, as BitMEX does.
func (c *rtConn) subscribe(topics []string, request []string) {
	req, _ := json.Marshal(map[string]any{"op": "subscribe", "args": request})
	now := c.fe.s.Clock.Now()
	for _, topic := range topics {
		table, symbol, _ := strings.Cut(topic, ":")
		_, isBin := binTables[table]
		if (table != "trade" && !isBin) || symbol == "" {
			c.queue(fmt.Sprintf(`{"status":400,"error":"Unknown or unsupported table: %s","meta":{},"request":%s}`, topic, req))
			continue
		}
		c.mu.Lock()
		st := c.syms[symbol]
		if st == nil {
			st = &symState{in: c.fe.instrument(symbol), bins: map[string]int64{}}
			c.syms[symbol] = st
		}
		partial := c.partial(st, table, now)
		c.mu.Unlock()
		c.queue(fmt.Sprintf(`{"success":true,"subscribe":"%s","request":%s}`, topic, req), partial)
	}
}

// partial returns the table's image for a new subscription: the last trade,
// or the last published bin. Called with c.mu held.
func (c *rtConn) partial(st *symState, table string, now int64) string {
	in := st.in
	in.Advance(now)
	head := fmt.Sprintf(`{"table":"%s","action":"partial","keys":[],"types":{},"foreignKeys":{"symbol":"instrument"},"attributes":{"timestamp":"sorted","symbol":"grouped"},"filter":{"symbol":"%s"},"data":[`, table, in.Symbol)
	if table == "trade" {
		st.trades = true
		row := ""
		if t, ok := in.LastBefore(now + 1); ok {
			st.seq, row = t.Seq, tradeRow(in, t)
		}
		return head + row + "]}"
	}
	iv := binTables[table]
	lastEnd := iv.Truncate(now - c.fe.s.BinDelay().Milliseconds())
	st.bins[table] = lastEnd
	row := ""
	if lastEnd-iv.Millis() >= c.fe.s.Listed() {
		row = bin(in, iv, lastEnd-iv.Millis())
	}
	return head + row + "]}"
}

// read handles "ping" and op:subscribe / op:unsubscribe.
func (c *rtConn) read(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		if string(data) == "ping" {
			if !c.fe.s.Faults.Active(Venue, sim.FaultSilence) {
				c.queue("pong")
			}
			continue
		}
		var req struct {
			Op   string          `json:"op"`
			Args json.RawMessage `json:"args"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			c.queue(`{"status":400,"error":"Failed to decode incoming data: Unexpected token. Please see the documentation at https://www.bitmex.com/app/wsAPI.","meta":{}}`)
			continue
		}
		args := bitmexwire.ParseArgs(req.Args)
		switch req.Op {
		case "subscribe":
			c.subscribe(args, args)
		case "unsubscribe":
			c.unsubscribe(args)
		default:
			c.queue(fmt.Sprintf(`{"status":400,"error":"Unknown or unsupported op %q","meta":{}}`, req.Op))
		}
	}
}

func (c *rtConn) unsubscribe(topics []string) {
	req, _ := json.Marshal(map[string]any{"op": "unsubscribe", "args": topics})
	c.mu.Lock()
	for _, topic := range topics {
		table, symbol, _ := strings.Cut(topic, ":")
		if st := c.syms[symbol]; st != nil {
			if table == "trade" {
				st.trades = false
			}
			delete(st.bins, table)
		}
		c.out = append(c.out, fmt.Sprintf(`{"success":true,"unsubscribe":"%s","request":%s}`, topic, req))
	}
	c.mu.Unlock()
}
