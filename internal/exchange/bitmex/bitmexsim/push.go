package bitmexsim

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/sim"
)

// run sends queued replies, new trades and newly published bins every tick.
func (c *rtConn) run(ctx context.Context) {
	tick := time.NewTicker(tickReal)
	defer tick.Stop()
	faults := c.fe.s.Faults
	dropped := faults.Dropped(Venue)
	for {
		select {
		case <-ctx.Done():
			return
		case <-dropped:
			return
		case <-tick.C:
		}
		if faults.Active(Venue, sim.FaultSilence) {
			continue
		}
		msgs := c.faultFrames()
		msgs = append(msgs, c.pending(c.fe.s.Clock.Now())...)
		for _, m := range msgs {
			if err := c.ws.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				return
			}
		}
	}
}

func (c *rtConn) faultFrames() []string {
	var out []string
	if c.fe.s.Faults.Notice(c.marks, sim.FaultMalformed) {
		out = append(out, `{"table":"trade","action":"insert","data":[{"timestamp":`)
	}
	if c.fe.s.Faults.Notice(c.marks, sim.FaultOversize) {
		out = append(out, `{"table":"trade","action":"insert","data":[],"pad":"`+strings.Repeat("x", 2<<20)+`"}`)
	}
	return out
}

// pending builds the frames due at simulated time now.
func (c *rtConn) pending(now int64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.out
	c.out = nil
	for _, s := range slices.Sorted(maps.Keys(c.syms)) {
		out = append(out, c.symbolFrames(c.syms[s], now)...)
	}
	return out
}

func (c *rtConn) symbolFrames(st *symState, now int64) []string {
	var out []string
	st.in.Advance(now)
	if trades := st.in.After(st.seq, now); len(trades) > 0 {
		rows := make([]string, 0, len(trades))
		for _, t := range trades {
			rows = append(rows, tradeRow(st.in, t))
			st.seq = t.Seq
		}
		if st.trades {
			out = append(out, `{"table":"trade","action":"insert","data":[`+strings.Join(rows, ",")+`]}`)
		}
	}
	delay := c.fe.s.BinDelay().Milliseconds()
	for _, table := range slices.Sorted(maps.Keys(st.bins)) {
		iv := binTables[table]
		for end := st.bins[table] + iv.Millis(); end+delay <= now; end += iv.Millis() {
			st.bins[table] = end
			if table == "tradeBin1m" && c.fe.s.Faults.Take(Venue, sim.FaultSkipFinal) {
				continue
			}
			out = append(out, `{"table":"`+table+`","action":"insert","data":[`+bin(st.in, iv, end-iv.Millis())+`]}`)
		}
	}
	return out
}
