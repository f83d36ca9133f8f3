package binancesim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

const (
	pushEvery   = 2 * time.Second  // kline pushes, simulated
	pingEvery   = 20 * time.Second // server pings, simulated
	maxLifetime = 24 * time.Hour   // Binance cuts connections at 24h, simulated
	maxIncoming = 5                // messages per real second before disconnect
	tickReal    = 20 * time.Millisecond
)

// symState is one subscribed symbol's position on one connection.
type symState struct {
	in       *sim.Instrument
	trades   bool  // aggTrade subscribed
	klines   bool  // kline_1m subscribed
	seq      int64 // last aggTrade sent
	minute   int64 // open time of the forming minute
	lastPush int64 // simulated time of the last kline push
}

type streamConn struct {
	fe      *FrontEnd
	marks   *sim.Mark // the faults that reach every connection, as this one saw them
	ws      *websocket.Conn
	mu      sync.Mutex // guards syms and out
	syms    map[string]*symState
	out     []string // replies queued by the reader
	started int64
}

func (fe *FrontEnd) serveStream(w http.ResponseWriter, r *http.Request) {
	if fe.s.Faults.Active(Venue, sim.FaultRefuse) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Too many connection attempts", http.StatusTooManyRequests)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(64 << 10)
	c := &streamConn{fe: fe, ws: ws, marks: fe.s.Faults.Mark(Venue), syms: map[string]*symState{}, started: fe.s.Clock.Now()}
	if q := r.URL.Query().Get("streams"); q != "" {
		c.subscribe(strings.Split(q, "/"))
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go c.read(ctx, cancel)
	err = c.run(ctx)
	if err != nil {
		ws.Close(websocket.StatusNormalClosure, err.Error())
		return
	}
	ws.CloseNow()
}

// subscribe adds streams; unknown stream types are accepted and ignored,
// as Binance does.
func (c *streamConn) subscribe(streams []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.fe.s.Clock.Now()
	for _, s := range streams {
		sym, kind, _ := strings.Cut(strings.ToLower(s), "@")
		if sym == "" || (kind != "aggtrade" && kind != "kline_1m") {
			continue
		}
		st := c.syms[sym]
		if st == nil {
			in := c.fe.instrument(sym)
			in.Advance(now)
			st = &symState{in: in, minute: market.I1m.Truncate(now)}
			if last, ok := in.LastBefore(now + 1); ok {
				st.seq = last.Seq
			}
			c.syms[sym] = st
		}
		st.trades = st.trades || kind == "aggtrade"
		st.klines = st.klines || kind == "kline_1m"
	}
}

// read handles client messages: SUBSCRIBE and friends, and the limit of 5
// incoming messages per second. Messages are counted when read, so a
// reader that a loaded machine delays reads those sent in the meantime at
// once: the limit is a rate of maxIncoming a second with a burst of twice
// that, which a client sending faster than the rate still exceeds within
// seconds.
func (c *streamConn) read(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	lim := rate.NewLimiter(maxIncoming, 2*maxIncoming)
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		if !lim.Allow() {
			c.ws.Close(websocket.StatusPolicyViolation, "too many messages")
			return
		}
		var req struct {
			Method string          `json:"method"`
			Params []string        `json:"params"`
			ID     json.RawMessage `json:"id"`
		}
		reply := ""
		switch err := json.Unmarshal(data, &req); {
		case err != nil:
			reply = `{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"}`
		case req.Method == "SUBSCRIBE":
			c.subscribe(req.Params)
			reply = fmt.Sprintf(`{"result":null,"id":%s}`, idOrNull(req.ID))
		case req.Method == "LIST_SUBSCRIPTIONS":
			reply = fmt.Sprintf(`{"result":%s,"id":%s}`, c.list(), idOrNull(req.ID))
		default:
			reply = `{"code":2,"msg":"Invalid request: unknown method"}`
		}
		c.mu.Lock()
		c.out = append(c.out, reply)
		c.mu.Unlock()
	}
}

func idOrNull(id json.RawMessage) string {
	if len(id) == 0 {
		return "null"
	}
	return string(id)
}

func (c *streamConn) list() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for sym, st := range c.syms {
		if st.klines {
			out = append(out, sym+"@kline_1m")
		}
		if st.trades {
			out = append(out, sym+"@aggTrade")
		}
	}
	slices.Sort(out)
	b, _ := json.Marshal(out)
	return string(b)
}
