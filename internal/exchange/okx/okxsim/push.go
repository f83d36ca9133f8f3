package okxsim

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// run pushes data every tick until the connection ends. It returns a reason
// for a deliberate close, or "" when the peer went away or a fault dropped
// it.
func (c *wsConn) run(ctx context.Context) string {
	tick := time.NewTicker(tickReal)
	defer tick.Stop()
	faults, clock := c.fe.s.Faults, c.fe.s.Clock
	dropped := faults.Dropped(Venue)
	lastData := time.Now() // OKX's idle cut is a transport rule: real time, whatever the speed
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
			continue // half-open: nothing at all, pongs included
		}
		c.faultFrames(ctx)
		msgs := c.pending(now)
		if len(msgs) > 0 {
			lastData = time.Now()
		} else if time.Since(lastData) >= idleCut {
			return "no subscription or data for 30 s"
		}
		for _, msg := range msgs {
			if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				return ""
			}
		}
	}
}

// faultFrames sends injected bad frames, on the candle connection: the one
// whose loss costs minutes, so that a test of the repair is one.
func (c *wsConn) faultFrames(ctx context.Context) {
	if !c.business {
		return
	}
	f := c.fe.s.Faults
	if f.Notice(c.marks, sim.FaultMalformed) {
		c.ws.Write(ctx, websocket.MessageText, []byte(`{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["`)) //nolint:errcheck // the run loop sees failures
	}
	if f.Notice(c.marks, sim.FaultOversize) {
		big := `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`
		c.ws.Write(ctx, websocket.MessageText, []byte(big)) //nolint:errcheck // the run loop sees failures
	}
}

// pending builds the frames due at simulated time now: queued replies, then
// each instrument's new trades or candle rows.
func (c *wsConn) pending(now int64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.out
	c.out = nil
	for _, id := range slices.Sorted(maps.Keys(c.subs)) {
		st := c.subs[id]
		st.in.Advance(now)
		if c.business {
			out = append(out, c.candleFrames(st, now)...)
		} else if f := tradeFrame(st, now); f != "" {
			out = append(out, f)
		}
	}
	return out
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
