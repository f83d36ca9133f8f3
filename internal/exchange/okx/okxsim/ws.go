package okxsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

const (
	pushEvery  = 500 * time.Millisecond // forming-candle pushes, simulated
	idleCut    = 30 * time.Second       // no subscription or data for this long closes, real time
	tickReal   = 20 * time.Millisecond
	maxMessage = 64 << 10
)

// symState is one subscribed instrument's position on one connection.
type symState struct {
	in       *sim.Instrument
	seq      int64 // last trade sent
	minute   int64 // open time of the forming minute
	lastPush int64 // simulated time of the last candle push
}

// wsConn is one connection's subscriptions (a sim.Session).
type wsConn struct {
	fe       *FrontEnd
	business bool // /ws/v5/business (candles); else /ws/v5/public (trades)
	id       string
	subs     map[string]*symState
}

// ws is how OKX's WebSocket connections are played.
var ws = sim.WSVenue{Venue: Venue, Refused: `{"msg":"Too Many Requests","code":"50011"}`, ReadLimit: maxMessage, Tick: tickReal, CloseCode: websocket.StatusNormalClosure}

func (fe *FrontEnd) serveWS(w http.ResponseWriter, r *http.Request, business bool) {
	fe.s.ServeWS(w, r, ws, func(now int64) (sim.Session, []string) {
		return &wsConn{fe: fe, business: business, id: fmt.Sprintf("%08x", now&0xffffffff), subs: map[string]*symState{}}, nil
	})
}

// channel is the one channel this endpoint serves.
func (c *wsConn) channel() string {
	if c.business {
		return "candle1m"
	}
	return "trades"
}

// Handle answers the text ping and the subscribe and unsubscribe ops.
func (c *wsConn) Handle(data []byte) []string {
	if string(data) == "ping" {
		return []string{"pong"}
	}
	var req struct {
		Op   string `json:"op"`
		Args []struct {
			Channel string `json:"channel"`
			InstID  string `json:"instId"`
		} `json:"args"`
	}
	if err := json.Unmarshal(data, &req); err != nil || (req.Op != "subscribe" && req.Op != "unsubscribe") {
		return []string{c.errorEvent("60012", "Invalid request: "+strings.ReplaceAll(string(data), `"`, `'`))}
	}
	var out []string
	for _, a := range req.Args {
		if a.Channel != c.channel() || a.InstID == "" {
			out = append(out, c.errorEvent("60018", fmt.Sprintf("Wrong URL or channel:%s,instId:%s doesn't exist. Please use the correct URL, channel and parameters referring to API document.", a.Channel, a.InstID)))
			continue
		}
		c.subscribe(a.InstID, req.Op == "subscribe")
		arg, _ := json.Marshal(a)
		out = append(out, fmt.Sprintf(`{"event":"%s","arg":%s,"connId":"%s"}`, req.Op, arg, c.id))
	}
	return out
}

func (c *wsConn) errorEvent(code, msg string) string {
	m, _ := json.Marshal(msg)
	return fmt.Sprintf(`{"event":"error","msg":%s,"code":"%s","connId":"%s"}`, m, code, c.id)
}

func (c *wsConn) subscribe(instID string, on bool) {
	instID = strings.ToUpper(instID)
	if !on {
		delete(c.subs, instID)
		return
	}
	if c.subs[instID] != nil {
		return
	}
	now := c.fe.s.Clock.Now()
	in := c.fe.instrument(instID)
	in.Advance(now)
	st := &symState{in: in, minute: market.I1m.Truncate(now)}
	if last, ok := in.LastBefore(now + 1); ok {
		st.seq = last.Seq
	}
	c.subs[instID] = st
}
