package coinbasesim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/sim"
)

const (
	tickReal       = 20 * time.Millisecond
	subscribeReal  = 5 * time.Second // Coinbase closes a connection that has not subscribed by then
	heartbeatEvery = 1_000           // simulated ms between heartbeats of a product
)

// product is one product's subscriptions on one connection.
type product struct {
	in        *sim.Instrument
	matches   bool
	heartbeat bool
	seq       int64 // last trade sent (or passed over)
	lastBeat  int64 // simulated time of the last heartbeat
	beats     int64
}

// wsConn is one connection's subscriptions (a sim.Session).
type wsConn struct {
	fe     *FrontEnd
	prods  map[string]*product
	out    []string  // the replies of the message being handled
	opened time.Time // real time
	// subscribed: a subscribe was accepted; until then the connection has
	// subscribeReal to send one.
	subscribed bool
}

// ws is how Coinbase's WebSocket connections are played.
var ws = sim.WSVenue{Venue: Venue, Refused: `{"message":"Too many requests"}`, ReadLimit: 64 << 10, Tick: tickReal, CloseCode: websocket.StatusPolicyViolation}

func (fe *FrontEnd) serveWS(w http.ResponseWriter, r *http.Request) {
	fe.s.ServeWS(w, r, ws, func(int64) (sim.Session, []string) {
		return &wsConn{fe: fe, prods: map[string]*product{}, opened: time.Now()}, nil
	})
}

// request is a subscribe or unsubscribe: channels are names (for the
// top-level product_ids) or objects with their own products.
type request struct {
	Type       string            `json:"type"`
	ProductIDs []string          `json:"product_ids"`
	Channels   []json.RawMessage `json:"channels"`
}

type channelReq struct {
	Name       string   `json:"name"`
	ProductIDs []string `json:"product_ids"`
}

// Handle applies one client message and returns its reply. It runs under
// the loop's lock, with Frames, so a last_match always precedes the
// product's matches.
func (c *wsConn) Handle(data []byte) []string {
	c.out = nil
	c.handle(data)
	return c.out
}

func (c *wsConn) handle(data []byte) {
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		c.out = append(c.out, errorFrame("Failed to subscribe", "malformed JSON"))
		return
	}
	if req.Type != "subscribe" && req.Type != "unsubscribe" {
		c.out = append(c.out, errorFrame("Failed to subscribe", req.Type+" is not a valid type"))
		return
	}
	chans, reason := parseChannels(req)
	if reason != "" {
		c.out = append(c.out, errorFrame("Failed to subscribe", reason))
		return
	}
	now := c.fe.s.Clock.Now()
	for _, ch := range chans {
		for _, id := range ch.ProductIDs {
			c.apply(req.Type == "subscribe", ch.Name, id, now)
		}
	}
	c.subscribed = c.subscribed || req.Type == "subscribe"
	c.out = append(c.out, c.subscriptions())
}

// parseChannels checks a request's channels and products.
func parseChannels(req request) ([]channelReq, string) {
	var out []channelReq
	for _, raw := range req.Channels {
		ch := channelReq{ProductIDs: req.ProductIDs}
		if json.Unmarshal(raw, &ch.Name) != nil {
			if json.Unmarshal(raw, &ch) != nil {
				return nil, "malformed channel"
			}
			if len(ch.ProductIDs) == 0 {
				ch.ProductIDs = req.ProductIDs
			}
		}
		if ch.Name != "matches" && ch.Name != "heartbeat" && ch.Name != "ticker" {
			return nil, ch.Name + " is not a valid channel"
		}
		for _, id := range ch.ProductIDs {
			if !validProduct.MatchString(id) {
				return nil, id + " is not a valid product"
			}
		}
		out = append(out, ch)
	}
	if len(out) == 0 {
		return nil, "no channels"
	}
	return out, ""
}

// apply subscribes or unsubscribes one channel of one product. A new
// matches subscription queues the product's last_match.
func (c *wsConn) apply(on bool, channel, id string, now int64) {
	p := c.prods[id]
	if p == nil {
		if !on {
			return
		}
		in := c.fe.instrument(id)
		in.Advance(now)
		p = &product{in: in}
		c.prods[id] = p
	}
	switch channel {
	case "matches":
		if on && !p.matches {
			if last, ok := p.in.LastBefore(now + 1); ok {
				p.seq = last.Seq
				c.out = append(c.out, matchFrame("last_match", p.in, last))
			}
		}
		p.matches = on
	case "heartbeat":
		p.heartbeat = on
	}
}

// subscriptions renders the reply: every channel with its products.
func (c *wsConn) subscriptions() string {
	var matches, beats []string
	for _, id := range slices.Sorted(maps.Keys(c.prods)) {
		if c.prods[id].matches {
			matches = append(matches, id)
		}
		if c.prods[id].heartbeat {
			beats = append(beats, id)
		}
	}
	list := func(ids []string) string { b, _ := json.Marshal(ids); return string(b) }
	return fmt.Sprintf(`{"type":"subscriptions","channels":[{"name":"matches","product_ids":%s},{"name":"heartbeat","product_ids":%s}]}`,
		list(matches), list(beats))
}

// FaultFrames are a truncated match and a ticker frame over 2 MiB.
func (c *wsConn) FaultFrames() (string, string) { return `{"type":"match","trade_id":`, oversized }

var oversized = `{"type":"ticker","pad":"` + strings.Repeat("x", 2<<20) + `"}`

// Frames builds the frames due at simulated time now: each product's new
// matches and its heartbeat. A connection that has not subscribed within
// subscribeReal is closed.
func (c *wsConn) Frames(now int64, _ time.Duration) ([]string, string) {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(c.prods)) {
		out = c.productFrames(out, c.prods[id], now)
	}
	if !c.subscribed && time.Since(c.opened) > subscribeReal {
		return out, "no subscribe within 5 seconds"
	}
	return out, ""
}

func (c *wsConn) productFrames(out []string, p *product, now int64) []string {
	p.in.Advance(now)
	if p.matches {
		for _, t := range p.in.After(p.seq, now) {
			p.seq = t.Seq
			if c.fe.s.Faults.Take(Venue, sim.FaultSkipFinal) {
				continue // a lost message: the client sees trade_id jump
			}
			out = append(out, matchFrame("match", p.in, t))
		}
	}
	if p.heartbeat && now-p.lastBeat >= heartbeatEvery {
		last := int64(0)
		if t, ok := p.in.LastBefore(now + 1); ok {
			last = t.Seq
		}
		p.lastBeat, p.beats = now, p.beats+1
		out = append(out, fmt.Sprintf(`{"type":"heartbeat","sequence":%d,"last_trade_id":%d,"product_id":%q,"time":%q}`,
			last*7+p.beats, last, p.in.Symbol, stamp(now)))
	}
	return out
}
