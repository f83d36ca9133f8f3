package bybitsim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

const (
	pushEvery = 2 * time.Second  // forming-kline pushes, simulated
	idleCut   = 10 * time.Minute // no ping for this long closes, real time (a transport rule)
	tickReal  = 20 * time.Millisecond
	maxArgs   = 10 // spot: args per subscribe message
)

// symState is one subscribed symbol's position on one connection.
type symState struct {
	in       *sim.Instrument
	klines   bool
	trades   bool
	seq      int64
	minute   int64
	lastPush int64
}

type wsConn struct {
	fe     *FrontEnd
	marks  *sim.Mark // the faults that reach every connection, as this one saw them
	ws     *websocket.Conn
	id     string
	mu     sync.Mutex // guards syms, out and pinged
	syms   map[string]*symState
	out    []string
	pinged time.Time // when the last ping came (real time)
}

func (fe *FrontEnd) serveWS(w http.ResponseWriter, r *http.Request) {
	if fe.s.Faults.Active(Venue, sim.FaultRefuse) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Too many visits", http.StatusTooManyRequests)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(64 << 10)
	now := fe.s.Clock.Now()
	c := &wsConn{fe: fe, ws: ws, marks: fe.s.Faults.Mark(Venue), id: fmt.Sprintf("sim-%d", now), syms: map[string]*symState{}, pinged: time.Now()}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go c.read(ctx, cancel)
	if reason := c.run(ctx); reason != "" {
		ws.Close(websocket.StatusNormalClosure, reason)
		return
	}
	ws.CloseNow()
}

func (c *wsConn) read(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		reply := c.handle(data)
		c.mu.Lock()
		c.out = append(c.out, reply)
		c.mu.Unlock()
	}
}

// handle answers op ping and op subscribe.
func (c *wsConn) handle(data []byte) string {
	var req struct {
		ReqID string   `json:"req_id"`
		Op    string   `json:"op"`
		Args  []string `json:"args"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return c.reply("", "", false, "error:request not json")
	}
	switch req.Op {
	case "ping":
		c.mu.Lock()
		c.pinged = time.Now()
		c.mu.Unlock()
		return c.reply(req.ReqID, "ping", true, "pong")
	case "subscribe":
		if len(req.Args) > maxArgs {
			return c.reply(req.ReqID, req.Op, false, fmt.Sprintf("error:args size >%d", maxArgs))
		}
		for _, a := range req.Args {
			if !c.subscribe(a) {
				return c.reply(req.ReqID, req.Op, false, "error:handler not found,topic:"+a)
			}
		}
		return c.reply(req.ReqID, req.Op, true, "")
	}
	return c.reply(req.ReqID, req.Op, false, "error:unknown op "+req.Op)
}

func (c *wsConn) reply(reqID, op string, ok bool, msg string) string {
	b, _ := json.Marshal(map[string]any{"success": ok, "ret_msg": msg, "conn_id": c.id, "req_id": reqID, "op": op})
	return string(b)
}

// subscribe adds one topic; false for a topic the simulator does not serve.
func (c *wsConn) subscribe(topic string) bool {
	sym, kline := strings.CutPrefix(topic, "kline.1.")
	trade := false
	if !kline {
		if sym, trade = strings.CutPrefix(topic, "publicTrade."); !trade {
			return false
		}
	}
	if sym == "" || strings.ToUpper(sym) != sym {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.syms[sym]
	if st == nil {
		now := c.fe.s.Clock.Now()
		in := c.fe.instrument(sym)
		in.Advance(now)
		st = &symState{in: in, minute: market.I1m.Truncate(now)}
		if last, ok := in.LastBefore(now + 1); ok {
			st.seq = last.Seq
		}
		c.syms[sym] = st
	}
	st.klines, st.trades = st.klines || kline, st.trades || trade
	return true
}

// run pushes data every tick until the connection ends.
func (c *wsConn) run(ctx context.Context) string {
	tick := time.NewTicker(tickReal)
	defer tick.Stop()
	faults, clock := c.fe.s.Faults, c.fe.s.Clock
	dropped := faults.Dropped(Venue)
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-dropped:
			return ""
		case <-tick.C:
		}
		now := clock.Now()
		if faults.Active(Venue, sim.FaultSilence) {
			continue
		}
		c.faultFrames(ctx)
		msgs, idle := c.pending(now)
		if idle {
			return "no ping for 10 minutes"
		}
		for _, msg := range msgs {
			if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				return ""
			}
		}
	}
}

func (c *wsConn) faultFrames(ctx context.Context) {
	f := c.fe.s.Faults
	if f.Notice(c.marks, sim.FaultMalformed) {
		c.ws.Write(ctx, websocket.MessageText, []byte(`{"topic":"publicTrade.BTCUSDT","data":[{"T":`)) //nolint:errcheck // the run loop sees failures
	}
	if f.Notice(c.marks, sim.FaultOversize) {
		c.ws.Write(ctx, websocket.MessageText, []byte(`{"topic":"x","pad":"`+strings.Repeat("x", 2<<20)+`"}`)) //nolint:errcheck // the run loop sees failures
	}
}

// pending builds the frames due at simulated time now; idle is true when
// the client has not pinged for idleCut.
func (c *wsConn) pending(now int64) (out []string, idle bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.pinged) > idleCut {
		return nil, true
	}
	out, c.out = c.out, nil
	for _, sym := range slices.Sorted(maps.Keys(c.syms)) {
		out = append(out, c.symbolFrames(c.syms[sym], now)...)
	}
	return out, false
}

func (c *wsConn) symbolFrames(st *symState, now int64) []string {
	var out, rows []string
	st.in.Advance(now)
	for _, t := range st.in.After(st.seq, now) {
		st.seq = t.Seq
		rows = append(rows, tradeJSON(st.in, t))
	}
	if st.trades && len(rows) > 0 {
		out = append(out, push("publicTrade."+st.in.Symbol, now, strings.Join(rows, ",")))
	}
	if !st.klines {
		return out
	}
	for market.I1m.Truncate(now) > st.minute {
		if !c.fe.s.Faults.Take(Venue, sim.FaultSkipFinal) {
			out = append(out, push("kline.1."+st.in.Symbol, now, klineJSON(st.in, st.in.Bin(st.minute), now, true)))
		}
		st.minute += 60_000
	}
	if now-st.lastPush >= pushEvery.Milliseconds() {
		st.lastPush = now
		out = append(out, push("kline.1."+st.in.Symbol, now, klineJSON(st.in, st.in.Bin(st.minute), now, false)))
	}
	return out
}
