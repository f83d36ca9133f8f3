package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// probe follows a sample of 1m streams over SSE and notes when each
// candle revision arrived, to time trades to the client (latencies).
type probe struct {
	mu     sync.Mutex
	seen   []probeSeen
	cursor int64 // the newest received
	cancel context.CancelFunc
	done   chan struct{}
}

type probeSeen struct {
	stream string
	t      int64  // the bin's open time
	v      string // its volume in this revision
	at     int64  // when it arrived, wall-clock UTC ms
}

// startProbe follows streams on the node at base until stopped, resuming
// from its cursor when the connection ends.
func startProbe(base string, streams []string) *probe {
	ctx, cancel := context.WithCancel(context.Background())
	p := &probe{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for ctx.Err() == nil {
			p.follow(ctx, base, streams) //nolint:errcheck // any end: resume from the cursor
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return p
}

func (p *probe) follow(ctx context.Context, base string, streams []string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/sse?streams="+url.QueryEscape(strings.Join(streams, ",")), nil)
	if err != nil {
		return err
	}
	if cur := p.newest(); cur > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(cur, 10))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		data, ok := strings.CutPrefix(string(line), "data: ")
		if !ok {
			continue
		}
		var msg struct {
			Type   string `json:"type"`
			Stream string `json:"stream"`
			Cursor int64  `json:"cursor"`
			Candle struct {
				T int64  `json:"t"`
				V string `json:"v"`
			} `json:"candle"`
		}
		if json.Unmarshal([]byte(data), &msg) != nil || msg.Type != "candle" {
			continue
		}
		p.mu.Lock()
		p.seen = append(p.seen, probeSeen{msg.Stream, msg.Candle.T, msg.Candle.V, time.Now().UnixMilli()})
		p.cursor = max(p.cursor, msg.Cursor)
		p.mu.Unlock()
	}
}

// newest is the newest cursor received.
func (p *probe) newest() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cursor
}

// snapshot is what the probe saw so far.
func (p *probe) snapshot() []probeSeen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// stop ends the probe.
func (p *probe) stop() {
	p.cancel()
	<-p.done
}

// simClock maps the simulator's clock to the wall clock.
type simClock struct {
	sim, wall int64 // a simulated instant and when it was, UTC ms
	speed     float64
}

func readSimClock(ctx context.Context, simAddr string) (simClock, error) {
	var c struct {
		Now   int64   `json:"now"`
		Speed float64 `json:"speed"`
	}
	if err := getJSON(ctx, "http://"+simAddr+"/admin/clock", &c); err != nil {
		return simClock{}, fmt.Errorf("read the simulator's clock: %w", err)
	}
	return simClock{sim: c.Now, wall: time.Now().UnixMilli(), speed: c.Speed}, nil
}

// wallOf is when simulated instant t is (was) on the wall clock.
func (c simClock) wallOf(t int64) int64 { return c.wall + int64(float64(t-c.sim)/c.speed) }

// Latency is a distribution of milliseconds.
type Latency struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

func (l Latency) String() string {
	return fmt.Sprintf("p50 %.0f ms, p99 %.0f ms, max %.0f ms (n=%d)", l.P50, l.P99, l.Max, l.Samples)
}

// tradeToClient times every trade that a revision one of the probes
// received in the wall-clock window [from, to) (UTC ms) first showed: from
// the trade (in the simulator's trade log) to that revision's arrival. A
// forming bin's trades folded into one revision are each timed, the
// oldest the longest. Revisions whose volume no prefix of the bin's trades
// makes (a venue's own kline after the trades) show no trade: the next
// that does shows them. seen holds each probe's revisions in arrival order.
func tradeToClient(ctx context.Context, simAddr string, clock simClock, seen [][]probeSeen, from, to int64) (Latency, error) {
	logs, err := tradeLogs(ctx, simAddr, seen, from, to)
	if err != nil {
		return Latency{}, err
	}
	var ms []float64
	for _, probe := range seen {
		shown := map[shownBin]int{} // trades of each bin shown so far
		for _, s := range probe {
			b := logs[s.stream][s.t]
			if b == nil {
				continue
			}
			v, err := market.ParseDecimal(s.v)
			if err != nil {
				continue
			}
			key := shownBin{s.stream, s.t}
			n, ok := b.upTo[v.String()]
			if !ok || n <= shown[key] {
				continue
			}
			if s.at >= from && s.at < to {
				for _, at := range b.at[shown[key]:n] {
					ms = append(ms, float64(s.at-clock.wallOf(at)))
				}
			}
			shown[key] = n
		}
	}
	return distribution(ms), nil
}

// shownBin is a bin of a stream a probe follows.
type shownBin struct {
	stream string
	t      int64
}

// binTrades are one bin's trades: the time of each, in order, and how
// many trades make each prefix volume (its canonical decimal string).
type binTrades struct {
	at   []int64
	upTo map[string]int
}

// tradeLogs reads the trade logs of the bins that revisions in the window
// [from, to) belong to: stream → bin open time → its trades.
func tradeLogs(ctx context.Context, simAddr string, seen [][]probeSeen, from, to int64) (map[string]map[int64]*binTrades, error) {
	lo, hi := map[string]int64{}, map[string]int64{}
	for _, probe := range seen {
		for _, s := range probe {
			if s.at >= from && s.at < to {
				if l, ok := lo[s.stream]; !ok || s.t < l {
					lo[s.stream] = s.t
				}
				hi[s.stream] = max(hi[s.stream], s.t+market.I1m.Millis())
			}
		}
	}
	logs := map[string]map[int64]*binTrades{}
	for stream := range lo {
		sr, err := market.ParseSeries(stream)
		if err != nil {
			return nil, err
		}
		if logs[stream], err = tradeTimes(ctx, simAddr, sr.Market, lo[stream], hi[stream]); err != nil {
			return nil, err
		}
	}
	return logs, nil
}

// tradeTimes reads m's trade log of the bins in [from, to).
func tradeTimes(ctx context.Context, simAddr string, m market.Market, from, to int64) (map[int64]*binTrades, error) {
	q := url.Values{"venue": {m.Venue}, "symbol": {m.Symbol}, "from": {fmt.Sprint(from)}, "to": {fmt.Sprint(to)}}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+simAddr+"/admin/trades?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := soakHTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the trade log of %s: %w", m, err)
	}
	defer resp.Body.Close()
	out := map[int64]*binTrades{}
	var b *binTrades
	vol := market.Zero
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var tr sim.TradeJSON
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			return nil, fmt.Errorf("read the trade log of %s: %w", m, err)
		}
		open := market.I1m.Truncate(tr.Time)
		if out[open] == nil {
			b, vol = &binTrades{upTo: map[string]int{}}, market.Zero
			out[open] = b
		}
		size, err := market.ParseDecimal(tr.Size)
		if err != nil {
			return nil, fmt.Errorf("read the trade log of %s: %w", m, err)
		}
		vol = vol.Add(size)
		b.at = append(b.at, tr.Time)
		b.upTo[vol.String()] = len(b.at)
	}
	return out, sc.Err()
}
