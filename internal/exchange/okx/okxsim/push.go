package okxsim

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// FaultFrames are injected bad frames, on the candle connection only: the
// one whose loss costs minutes, so that a test of the repair is one.
func (c *wsConn) FaultFrames() (string, string) {
	if !c.business {
		return "", ""
	}
	return `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["`, oversized
}

var oversized = `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`

// Frames builds the frames due at simulated time now: each instrument's
// new trades or candle rows. OKX cuts a connection with no subscription
// or data for idleCut (a transport rule: real time, whatever the speed).
func (c *wsConn) Frames(now int64, quiet time.Duration) ([]string, string) {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(c.subs)) {
		st := c.subs[id]
		st.in.Advance(now)
		if c.business {
			out = append(out, c.candleFrames(st, now)...)
		} else if f := tradeFrame(st, now); f != "" {
			out = append(out, f)
		}
	}
	if len(out) == 0 && quiet >= idleCut {
		return nil, "no subscription or data for 30 s"
	}
	return out, ""
}

// tradeFrame is one message with the trades since the last one.
func tradeFrame(st *symState, now int64) string {
	var rows []string
	for _, t := range st.in.After(st.seq, now) {
		st.seq = t.Seq
		rows = append(rows, tradeRow(st.in, t))
	}
	if len(rows) == 0 {
		return ""
	}
	return push("trades", st.in.Symbol, strings.Join(rows, ","))
}

// candleFrames confirms minutes that have closed and pushes the forming
// one every pushEvery.
func (c *wsConn) candleFrames(st *symState, now int64) []string {
	var out []string
	for market.I1m.Truncate(now) > st.minute {
		if !c.fe.s.Faults.Take(Venue, sim.FaultSkipFinal) {
			out = append(out, push("candle1m", st.in.Symbol, candleRow(st.in, st.in.Bin(st.minute), true)))
		}
		st.minute += 60_000
	}
	if now-st.lastPush >= pushEvery.Milliseconds() {
		st.lastPush = now
		out = append(out, push("candle1m", st.in.Symbol, candleRow(st.in, st.in.Bin(st.minute), false)))
	}
	return out
}
