package bench

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// failover kills -9 the collector owning the most markets 3 s before a
// bin closes, and times how long until its markets have a new owner and
// until their next final candle is stored (by the standby that took
// them), beside the same bin's finals of the other markets.
func (b *clusterBench) failover(ctx context.Context) error {
	gw := b.gateways[len(b.gateways)-1].base
	own, err := owners(ctx, gw)
	if err != nil {
		return err
	}
	victim := b.mostOwning(own)
	clock, err := readSimClock(ctx, b.simAddr)
	if err != nil {
		return err
	}
	close := market.I1m.Truncate(clock.sim) + market.I1m.Millis()
	for clock.wallOf(close)-3000 < time.Now().UnixMilli()+2000 {
		close += market.I1m.Millis()
	}
	if err := upstream.Sleep(ctx, time.Until(time.UnixMilli(clock.wallOf(close)-3000))); err != nil {
		return err
	}
	b.collectors[victim].kill()
	killed := time.Now()
	name := b.collectors[victim].name
	b.collectors = slices.Delete(b.collectors, victim, victim+1)
	b.logf("killed %s (kill -9) 3 s before %s", name, time.UnixMilli(close).UTC().Format("15:04"))
	f := &b.res.Failover
	f.Killed = name
	if err := b.waitOwned(ctx, name); err != nil {
		return err
	}
	f.OwnerMoved = time.Since(killed).Seconds()
	return b.timeFinals(ctx, gw, own, killed, clock.wallOf(close), close-market.I1m.Millis())
}

// timeFinals waits for every market's bin t (which closed at wall-clock
// closed) to be final, and times the killed collector's markets' from its
// kill and the others' from the close.
func (b *clusterBench) timeFinals(ctx context.Context, gw string, own map[string]string, killed time.Time, closed, t int64) error {
	f := &b.res.Failover
	stored, err := b.waitFinals(ctx, gw, t)
	if err != nil {
		return err
	}
	var mine, others []float64
	for m, at := range stored {
		if own[m.String()] == f.Killed {
			mine = append(mine, float64(at-killed.UnixMilli()))
		} else {
			others = append(others, float64(at-closed))
		}
	}
	for _, m := range b.ms {
		if own[m.String()] == f.Killed {
			f.Markets++
		}
	}
	f.NotFinal = len(b.ms) - len(stored)
	f.NextFinal, f.OthersFinal = distribution(mine), distribution(others)
	return nil
}

// mostOwning is the index of the collector that owns the most markets.
func (b *clusterBench) mostOwning(own map[string]string) int {
	n := map[string]int{}
	for _, o := range own {
		n[o]++
	}
	best := 0
	for i, c := range b.collectors {
		if n[c.name] > n[b.collectors[best].name] {
			best = i
		}
	}
	return best
}

// waitFinals waits, two minutes at most, for every market's bin t to be
// stored final, and returns when each that was, was.
func (b *clusterBench) waitFinals(ctx context.Context, base string, t int64) (map[market.Market]int64, error) {
	stored := map[market.Market]int64{}
	for deadline := time.Now().Add(2 * time.Minute); len(stored) < len(b.ms) && time.Now().Before(deadline); {
		for _, m := range b.ms {
			if stored[m] > 0 {
				continue
			}
			if at, err := finalAt(ctx, base, m, t); err == nil && at > 0 {
				stored[m] = at
			}
		}
		if err := upstream.Sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

// distribution is the p50, p99 and maximum of ms.
func distribution(ms []float64) Latency {
	if len(ms) == 0 {
		return Latency{}
	}
	slices.Sort(ms)
	return Latency{Samples: len(ms), P50: ms[len(ms)/2], P99: ms[len(ms)*99/100], Max: ms[len(ms)-1]}
}

// outage kills every NATS server, waits, starts them again on their data,
// and times each gateway's return to the bus, and its probe's catching up
// with the store's head as it was when the servers came back.
func (b *clusterBench) outage(ctx context.Context) error {
	b.logf("NATS down (kill -9 of every server) for %s", b.o.Outage)
	b.nats.killAll()
	if err := upstream.Sleep(ctx, b.o.Outage); err != nil {
		return err
	}
	var bus0 []float64
	var head int64
	for _, g := range b.gateways {
		v, err := metricSum(ctx, g.base, "candlewire_feed_changes_total", `from="bus"`)
		if err != nil {
			return err
		}
		bus0 = append(bus0, v)
		if head, err = storeHead(ctx, g.base, b.ms[0]); err != nil {
			return err
		}
	}
	restarted := time.Now()
	started := make(chan error, 1)
	go func() { started <- b.nats.startAll(ctx) }()
	done, err := b.watchCatchUp(ctx, restarted, started, bus0, head)
	if !done { // the servers' list is the goroutine's until it returns
		err = errors.Join(err, <-started)
	}
	return err
}

// watchCatchUp polls, two minutes at most, until JetStream answers again
// (started), and every gateway has a change from the bus again (beyond
// bus0) and its probe at the store's head as it was (head). done says
// whether it received what started sent.
func (b *clusterBench) watchCatchUp(ctx context.Context, restarted time.Time, started <-chan error, bus0 []float64,
	head int64) (done bool, err error) {
	b.res.CatchUp = make([]CatchUp, len(b.gateways))
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && !caughtUp(b.res.CatchUp, b.res.NATSReady); {
		select {
		case err := <-started:
			if err != nil {
				return true, err
			}
			done = true
			b.res.NATSReady = time.Since(restarted).Seconds()
			b.logf("NATS back after %.1f s", b.res.NATSReady)
		default:
		}
		for i, g := range b.gateways {
			c := &b.res.CatchUp[i]
			c.Gateway = g.name
			if v, err := metricSum(ctx, g.base, "candlewire_feed_changes_total", `from="bus"`); err == nil && v > bus0[i] && c.BusResumed == 0 {
				c.BusResumed = time.Since(restarted).Seconds()
			}
			if c.Current == 0 && b.probes[i].newest() >= head {
				c.Current = time.Since(restarted).Seconds()
			}
		}
		if err := upstream.Sleep(ctx, 100*time.Millisecond); err != nil {
			return done, err
		}
	}
	return done, nil
}

// caughtUp says whether NATS is back and every gateway reads the bus and
// has its clients current.
func caughtUp(cs []CatchUp, ready float64) bool {
	return ready > 0 && !slices.ContainsFunc(cs, func(c CatchUp) bool { return c.BusResumed == 0 || c.Current == 0 })
}

// storeHead is the store's newest change, as a node answers it.
func storeHead(ctx context.Context, base string, m market.Market) (int64, error) {
	var head struct {
		Cursor int64 `json:"cursor"`
	}
	err := getJSON(ctx, base+"/v1/candles?limit=1&market="+url.QueryEscape(m.String()), &head)
	return head.Cursor, err
}

// metricSum sums a node's samples of metric whose labels contain label.
func metricSum(ctx context.Context, base, metric, label string) (float64, error) {
	body, err := getText(ctx, base+"/metrics")
	if err != nil {
		return 0, err
	}
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, metric) || !strings.Contains(name, label) {
			continue
		}
		if n, _, _ := strings.Cut(name, "{"); n != metric {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// getText GETs u's body, which must be 200 OK.
func getText(ctx context.Context, u string) (string, error) {
	body, err := get(ctx, u)
	if err != nil {
		return "", err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 16<<20))
	return string(b), err
}
