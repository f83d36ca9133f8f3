package bench

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Finals is whether every client got every final candle of its streams.
type Finals struct {
	Bins       int   `json:"final_bins"`
	Unsettled  int   `json:"unsettled_bins"`
	Expected   int64 `json:"expected"`
	Received   int64 `json:"received"`
	Missing    int64 `json:"missing"`
	Duplicates int64 `json:"duplicates"`
}

// measure runs the steady phase, the failover and the NATS outage, then
// checks the clients' finals and times the probes' revisions.
func (b *clusterBench) measure(ctx context.Context) error {
	clock, err := readSimClock(ctx, b.simAddr)
	if err != nil {
		return err
	}
	s0 := market.I1m.Truncate(clock.sim) + market.I1m.Millis() // the first bin the clients saw open
	b.logf("warming up: %s", b.o.Warmup)
	if err := upstream.Sleep(ctx, b.o.Warmup); err != nil {
		return err
	}
	from := time.Now().UnixMilli()
	nodes, err := b.steady(ctx, append(append(b.collectors, b.gateways...), b.nats.procs...))
	if err != nil {
		return err
	}
	b.res.Nodes = nodes
	to := time.Now().UnixMilli()
	if err := b.failover(ctx); err != nil {
		return err
	}
	if err := b.outage(ctx); err != nil {
		return err
	}
	last, err := readSimClock(ctx, b.simAddr)
	if err != nil {
		return err
	}
	if b.res.Finals, err = b.finals(ctx, b.gateways[0].base, s0, market.I1m.Truncate(last.sim)); err != nil {
		return err
	}
	var seen [][]probeSeen
	for _, p := range b.probes {
		seen = append(seen, p.snapshot())
	}
	b.res.Latency, err = tradeToClient(ctx, b.simAddr, clock, seen, from, to)
	return err
}

// steady samples every process's CPU and memory over the steady phase,
// and each node's store queue, mean write time and relay lag.
func (b *clusterBench) steady(ctx context.Context, procs []*child) ([]NodeUsage, error) {
	b.logf("steady phase: %s", b.o.Steady)
	start := time.Now()
	u0, w0 := make([]usage, len(procs)), make([]writes, len(procs))
	for i, p := range procs {
		var err error
		if u0[i], err = procUsage(p.cmd.Process.Pid); err != nil {
			return nil, err
		}
		w0[i] = storeWrites(ctx, p.base)
	}
	if err := upstream.Sleep(ctx, b.o.Steady); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	b.res.Steady = secs
	out := make([]NodeUsage, len(procs))
	for i, p := range procs {
		u1, err := procUsage(p.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		out[i] = NodeUsage{Name: p.name, CPUPercent: 100 * (u1.cpu - u0[i].cpu) / secs, RSSMiB: u1.rss, PeakRSSMiB: u1.peak}
		if p.base != "" {
			out[i].Queue, _ = metricSum(ctx, p.base, "candlewire_store_queue_depth", "")
			out[i].RelayLag, _ = metricSum(ctx, p.base, "candlewire_relay_lag", "")
			if w1 := storeWrites(ctx, p.base); w1.n > w0[i].n {
				out[i].WriteMs = 1000 * (w1.seconds - w0[i].seconds) / (w1.n - w0[i].n)
			}
		}
	}
	return out, nil
}

// writes are a node's store transactions so far and their total time.
type writes struct{ n, seconds float64 }

func storeWrites(ctx context.Context, base string) writes {
	if base == "" {
		return writes{}
	}
	sum, _ := metricSum(ctx, base, "candlewire_store_write_seconds_sum", "")
	n, _ := metricSum(ctx, base, "candlewire_store_write_seconds_count", "")
	return writes{n: n, seconds: sum}
}

// owners reads who owns each market from a gateway's /v1/status.
func owners(ctx context.Context, base string) (map[string]string, error) {
	var st struct {
		Markets []struct {
			Market string `json:"market"`
			Owner  string `json:"owner"`
		} `json:"markets"`
	}
	if err := getJSON(ctx, base+"/v1/status", &st); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range st.Markets {
		out[m.Market] = m.Owner
	}
	return out, nil
}

// waitOwned waits (two minutes at most) until a gateway, or the first
// collector when there is none yet, sees every market owned by a node
// other than gone.
func (b *clusterBench) waitOwned(ctx context.Context, gone string) error {
	base := b.collectors[0].base
	if len(b.gateways) > 0 {
		base = b.gateways[len(b.gateways)-1].base
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		own, err := owners(ctx, base)
		if err == nil && len(own) == len(b.ms) && !slices.ContainsFunc(b.ms, func(m market.Market) bool {
			return own[m.String()] == "" || own[m.String()] == gone
		}) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("markets not all owned (but by %q) within two minutes: %v", gone, err)
		}
		if err := upstream.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// finals waits for the store's finals of [s0, s1) and then for the
// clients to have them, as the soak does.
func (b *clusterBench) finals(ctx context.Context, base string, s0, s1 int64) (Finals, error) {
	b.logf("checking the clients' finals of %s..%s", time.UnixMilli(s0).UTC().Format("15:04"), time.UnixMilli(s1).UTC().Format("15:04"))
	s := &soakRun{o: SoakOptions{Markets: b.ms, Intervals: []market.Interval{market.I1m}, Settle: b.o.Settle},
		srv: &runChild{base: base}, procs: b.clients, log: b.log}
	if err := s.verify(ctx, s0, s1); err != nil {
		return Finals{}, err
	}
	r := s.res
	return Finals{Bins: r.Bins, Unsettled: r.Unsettled, Expected: r.Expected, Received: r.Received, Missing: r.Missing,
		Duplicates: r.Duplicates}, nil
}

// finalAt reads when m's bin t was stored final (UTC ms), 0 while not.
func finalAt(ctx context.Context, base string, m market.Market, t int64) (int64, error) {
	var page struct {
		Candles []struct {
			T       int64 `json:"t"`
			Final   bool  `json:"final"`
			Updated int64 `json:"updated"`
		} `json:"candles"`
	}
	q := url.Values{"market": {m.String()}, "interval": {"1m"}, "from": {fmt.Sprint(t)}, "to": {fmt.Sprint(t + market.I1m.Millis())}}
	if err := getJSON(ctx, base+"/v1/candles?"+q.Encode(), &page); err != nil {
		return 0, err
	}
	for _, c := range page.Candles {
		if c.T == t && c.Final {
			return c.Updated, nil
		}
	}
	return 0, nil
}
