package krakensim

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

// Heartbeat is how long a connection stays quiet before it gets a
// heartbeat: a transport rule, in real time.
const Heartbeat = time.Second

const (
	tickReal     = 20 * time.Millisecond
	snapshotRows = 10 // windows with trades in an ohlc snapshot
)

// symState is one subscribed pair's position on one connection.
type symState struct {
	in        *sim.Instrument
	pair      string
	ohlc      bool
	trades    bool
	seq       int64 // last trade sent or built into a sent row
	skipUntil int64 // skip-final: no ohlc rows for windows before this
	lastWin   int64 // window of the newest trade seen
}

// wsConn is one connection's subscriptions (a sim.Session).
type wsConn struct {
	fe   *FrontEnd
	syms map[string]*symState
}

// ws is how Kraken's WebSocket connections are played.
var ws = sim.WSVenue{Venue: Venue, Refused: "Too many requests", ReadLimit: 64 << 10, Tick: tickReal, CloseCode: websocket.StatusNormalClosure}

func (fe *FrontEnd) serveWS(w http.ResponseWriter, r *http.Request) {
	fe.s.ServeWS(w, r, ws, func(int64) (sim.Session, []string) {
		return &wsConn{fe: fe, syms: map[string]*symState{}},
			[]string{`{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.7"}]}`}
	})
}

// Handle answers ping and subscribe, one ack per symbol, each followed by
// its pair's ohlc snapshot when one was asked for.
func (c *wsConn) Handle(data []byte) []string {
	var req struct {
		Method string `json:"method"`
		ReqID  int64  `json:"req_id"`
		Params struct {
			Channel  string   `json:"channel"`
			Symbol   []string `json:"symbol"`
			Interval int      `json:"interval"`
			Snapshot *bool    `json:"snapshot"`
		} `json:"params"`
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if err := json.Unmarshal(data, &req); err != nil {
		return []string{fmt.Sprintf(`{"error":"Malformed request","success":false,"time_in":"%s","time_out":"%s"}`, now, now)}
	}
	switch req.Method {
	case "ping":
		return []string{fmt.Sprintf(`{"method":"pong","req_id":%d,"time_in":"%s","time_out":"%s"}`, req.ReqID, now, now)}
	case "subscribe":
	default:
		return []string{fmt.Sprintf(`{"error":"Method %s not supported","method":%q,"success":false,"req_id":%d}`, req.Method, req.Method, req.ReqID)}
	}
	p := req.Params
	var out []string
	for _, pair := range p.Symbol {
		fail := ""
		switch {
		case p.Channel != "ohlc" && p.Channel != "trade":
			fail = "Channel " + p.Channel + " not supported"
		case p.Channel == "ohlc" && p.Interval != 1:
			fail = "Invalid interval"
		case strings.HasPrefix(pair, "XBT/") || !strings.Contains(pair, "/"):
			fail = "Currency pair not supported " + pair
		}
		if fail != "" {
			out = append(out, fmt.Sprintf(`{"error":%q,"method":"subscribe","success":false,"symbol":%q,"req_id":%d,"time_in":"%s","time_out":"%s"}`, fail, pair, req.ReqID, now, now))
			continue
		}
		out = append(out, fmt.Sprintf(`{"method":"subscribe","result":{"channel":%q,"snapshot":%t,"symbol":%q},"success":true,"req_id":%d,"time_in":"%s","time_out":"%s"}`,
			p.Channel, p.Snapshot == nil || *p.Snapshot, pair, req.ReqID, now, now))
		out = append(out, c.subscribe(pair, p.Channel == "ohlc", p.Snapshot == nil || *p.Snapshot)...)
	}
	return out
}

// subscribe adds a channel of a pair and returns its ohlc snapshot, if
// asked. Handle runs under the loop's lock, with Frames: no update of the
// pair can be sent between the snapshot and the subscription, so the
// snapshot is never older than an update the client already has.
func (c *wsConn) subscribe(pair string, ohlc, snapshot bool) []string {
	now := c.fe.s.Clock.Now()
	st := c.syms[pair]
	if st == nil {
		in := c.fe.instrument(pair)
		in.Advance(now)
		st = &symState{in: in, pair: pair}
		if last, ok := in.LastBefore(now + 1); ok {
			st.seq = last.Seq
		}
		c.syms[pair] = st
	}
	if !ohlc {
		st.trades = true
		return nil
	}
	st.ohlc = true
	if !snapshot {
		return nil
	}
	var rows []string
	for t := market.I1m.Truncate(now); t >= c.fe.s.Listed() && len(rows) < snapshotRows; t -= 60_000 {
		if b := st.in.Bin(t); !b.Empty() {
			rows = append([]string{ohlcRow(st.in, pair, b)}, rows...)
		}
	}
	return []string{`{"channel":"ohlc","type":"snapshot","data":[` + strings.Join(rows, ",") + `]}`}
}

// FaultFrames are a truncated ohlc update and a trade frame over 2 MiB.
func (c *wsConn) FaultFrames() (string, string) {
	return `{"channel":"ohlc","type":"update","data":[{"symbol":`, oversized
}

var oversized = `{"channel":"trade","pad":"` + strings.Repeat("x", 2<<20) + `"}`

// Frames builds the frames due at simulated time now: each pair's new
// trades and the ohlc rows of the windows they changed, oldest window
// first; a heartbeat when nothing was sent for Heartbeat.
func (c *wsConn) Frames(now int64, quiet time.Duration) ([]string, string) {
	var out []string
	for _, pair := range slices.Sorted(maps.Keys(c.syms)) {
		out = append(out, c.pairFrames(c.syms[pair], now)...)
	}
	if len(out) == 0 && quiet >= Heartbeat {
		out = []string{`{"channel":"heartbeat"}`}
	}
	return out, ""
}

func (c *wsConn) pairFrames(st *symState, now int64) []string {
	st.in.Advance(now)
	ts := st.in.After(st.seq, now)
	if len(ts) == 0 {
		return nil
	}
	st.seq = ts[len(ts)-1].Seq
	var out, rows []string
	if st.trades {
		for _, t := range ts {
			rows = append(rows, tradeRow(st.in, st.pair, t))
		}
		out = append(out, `{"channel":"trade","type":"update","data":[`+strings.Join(rows, ",")+`]}`)
	}
	if !st.ohlc {
		return out
	}
	rows = rows[:0]
	var windows []int64
	for _, t := range ts {
		if w := market.I1m.Truncate(t.Time); len(windows) == 0 || windows[len(windows)-1] != w {
			windows = append(windows, w)
		}
	}
	for _, w := range windows {
		if w > st.lastWin && st.lastWin > 0 && c.fe.s.Faults.Take(Venue, sim.FaultSkipFinal) {
			st.skipUntil = w + 2*60_000 // this window and the next get no rows: the one before settles late
		}
		st.lastWin = max(st.lastWin, w)
		if w >= st.skipUntil {
			rows = append(rows, ohlcRow(st.in, st.pair, st.in.Bin(w)))
		}
	}
	if len(rows) > 0 {
		out = append(out, `{"channel":"ohlc","type":"update","data":[`+strings.Join(rows, ",")+`]}`)
	}
	return out
}
