package binancesim

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

var errCut = errors.New("24h connection lifetime reached")

// run pushes data every tick until the connection ends. It returns a reason
// for a deliberate close, or nil when the peer went away.
func (c *streamConn) run(ctx context.Context) error {
	tick := time.NewTicker(tickReal)
	defer tick.Stop()
	faults, clock := c.fe.s.Faults, c.fe.s.Clock
	dropped := faults.Dropped(Venue)
	lastPing := c.started
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-dropped:
			return nil
		case <-tick.C:
		}
		now := clock.Now()
		if faults.Active(Venue, sim.FaultSilence) {
			continue // half-open: no data, no pings
		}
		if now-c.started >= maxLifetime.Milliseconds() {
			return errCut
		}
		if err := c.faultFrames(ctx, now); err != nil {
			return err
		}
		if now-lastPing >= pingEvery.Milliseconds() {
			lastPing = now
			go c.ping(ctx)
		}
		for _, msg := range c.pending(now) {
			if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				return nil
			}
		}
	}
}

func (c *streamConn) ping(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, c.fe.s.Clock.Real(60*time.Second)+time.Second)
	defer cancel()
	if err := c.ws.Ping(pctx); err != nil && ctx.Err() == nil {
		c.ws.Close(websocket.StatusPolicyViolation, "pong timeout")
	}
}

// faultFrames sends injected bad frames and the shutdown notice.
func (c *streamConn) faultFrames(ctx context.Context, now int64) error {
	f := c.fe.s.Faults
	if f.Notice(c.marks, sim.FaultMalformed) {
		c.ws.Write(ctx, websocket.MessageText, []byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","p":`)) //nolint:errcheck // the run loop sees failures
	}
	if f.Notice(c.marks, sim.FaultOversize) {
		big := `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","pad":"` + strings.Repeat("x", 2<<20) + `"}}`
		c.ws.Write(ctx, websocket.MessageText, []byte(big)) //nolint:errcheck // the run loop sees failures
	}
	if f.Notice(c.marks, sim.FaultShutdown) {
		msg := `{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":` + itoa(now) + `}}`
		c.ws.Write(ctx, websocket.MessageText, []byte(msg)) //nolint:errcheck // closing anyway
		return errors.New("server shutdown")
	}
	return nil
}

// pending builds the frames due at simulated time now: queued replies, new
// aggTrades, minute finals and kline pushes, symbol by symbol.
func (c *streamConn) pending(now int64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.out
	c.out = nil
	for _, s := range slices.Sorted(maps.Keys(c.syms)) {
		out = append(out, c.symbolFrames(c.syms[s], s, now)...)
	}
	return out
}

func (c *streamConn) symbolFrames(st *symState, sym string, now int64) []string {
	var out []string
	st.in.Advance(now)
	for _, t := range st.in.After(st.seq, now) {
		st.seq = t.Seq
		if st.trades {
			out = append(out, wrap(sym+"@aggTrade", aggTradeJSON(st.in, t, t.Time)))
		}
	}
	for market.I1m.Truncate(now) > st.minute { // the forming minute closed
		if st.klines && !c.fe.s.Faults.Take(Venue, sim.FaultSkipFinal) {
			out = append(out, wrap(sym+"@kline_1m", klineJSON(st.in, st.in.Bin(st.minute), st.minute+60_000, true)))
		}
		st.minute += 60_000
	}
	if st.klines && now-st.lastPush >= pushEvery.Milliseconds() {
		st.lastPush = now
		out = append(out, wrap(sym+"@kline_1m", klineJSON(st.in, st.in.Bin(st.minute), now, false)))
	}
	return out
}

func wrap(stream, data string) string { return `{"stream":"` + stream + `","data":` + data + `}` }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
