package bybitsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
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

// wsConn is one connection's subscriptions (a sim.Session).
type wsConn struct {
	fe     *FrontEnd
	id     string
	syms   map[string]*symState
	pinged time.Time // when the last ping came (real time)
}

// ws is how Bybit's WebSocket connections are played.
var ws = sim.WSVenue{Venue: Venue, Refused: "Too many visits", ReadLimit: 64 << 10, Tick: tickReal, CloseCode: websocket.StatusNormalClosure}

func (fe *FrontEnd) serveWS(w http.ResponseWriter, r *http.Request) {
	fe.s.ServeWS(w, r, ws, func(now int64) (sim.Session, []string) {
		return &wsConn{fe: fe, id: fmt.Sprintf("sim-%d", now), syms: map[string]*symState{}, pinged: time.Now()}, nil
	})
}

// Handle answers op ping and op subscribe.
func (c *wsConn) Handle(data []byte) []string { return []string{c.handle(data)} }

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
		c.pinged = time.Now()
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

// FaultFrames are a truncated trade frame and one over 2 MiB.
func (c *wsConn) FaultFrames() (string, string) {
	return `{"topic":"publicTrade.BTCUSDT","data":[{"T":`, oversized
}

var oversized = `{"topic":"x","pad":"` + strings.Repeat("x", 2<<20) + `"}`

// Frames builds the frames due at simulated time now; a client that has
// not pinged for idleCut is closed.
func (c *wsConn) Frames(now int64, _ time.Duration) ([]string, string) {
	if time.Since(c.pinged) > idleCut {
		return nil, "no ping for 10 minutes"
	}
	var out []string
	for _, sym := range slices.Sorted(maps.Keys(c.syms)) {
		out = append(out, c.symbolFrames(c.syms[sym], now)...)
	}
	return out, ""
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
