package bench

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
)

// soakSample is the server process at one moment of the soak.
type soakSample struct {
	Elapsed    float64 `json:"elapsed_s"`
	RSSMiB     float64 `json:"rss_mib"`
	Goroutines int     `json:"goroutines"`
	CPUPercent float64 `json:"cpu_percent_of_one_core"` // since the previous sample
	Conns      int     `json:"connections"`
	Drops      int     `json:"slow_drops"` // so far
}

// SoakResult is what `candlewire bench soak` measured.
type SoakResult struct {
	Clients         map[string]int `json:"clients"`
	Seconds         float64        `json:"seconds"`
	Speed           float64        `json:"sim_speed"`
	Streams         []string       `json:"streams"`
	Faults          []string       `json:"faults"`
	Samples         []soakSample   `json:"samples"`
	Transports      []SoakCheck    `json:"transports"`
	Bins            int            `json:"final_bins"`     // final candles in the window, all streams
	Unsettled       int            `json:"unsettled_bins"` // bins of the window not final in the store at the end
	Expected        int64          `json:"expected"`
	Received        int64          `json:"received"`
	Missing         int64          `json:"missing"`
	Duplicates      int64          `json:"duplicates"`
	Reconnects      int            `json:"reconnects"`
	MaxRSSMiB       float64        `json:"max_rss_mib"`
	RSSGrowthMiB    float64        `json:"rss_growth_mib"` // last sample - first
	GoroutineGrowth int            `json:"goroutine_growth"`
}

// soakRun is a soak under way.
type soakRun struct {
	o       SoakOptions
	simAddr string
	srv     *runChild
	procs   []*SoakProcess
	log     io.Writer
	res     SoakResult
	start   time.Time
	lastCPU float64
	lastAt  time.Time
}

// run soaks for the duration, then settles and checks the deliveries.
func (s *soakRun) run(ctx context.Context) (SoakResult, error) {
	s.res = SoakResult{Clients: map[string]int{}, Speed: s.o.Speed, Streams: s.o.streams(), Faults: []string{}}
	for _, p := range s.procs {
		s.res.Clients[p.Transport] = p.Connected
	}
	s0, err := simNow(s.simAddr)
	if err != nil {
		return s.res, err
	}
	s.start = time.Now()
	if err := s.sample(ctx); err != nil {
		return s.res, err
	}
	if err := s.soakFor(ctx); err != nil {
		return s.res, err
	}
	s1, err := simNow(s.simAddr)
	if err != nil {
		return s.res, err
	}
	s.res.Seconds = time.Since(s.start).Seconds()
	fmt.Fprintf(s.log, "soak: done after %s; settling (at most %s)\n", time.Since(s.start).Round(time.Second), s.o.Settle)
	return s.res, s.verify(ctx, s0, s1)
}

// soakFor samples and injects faults until the duration is over.
func (s *soakRun) soakFor(ctx context.Context) error {
	sampleT := time.NewTicker(s.o.Every)
	defer sampleT.Stop()
	var faultC <-chan time.Time
	if s.o.FaultEvery > 0 {
		ft := time.NewTicker(s.o.FaultEvery)
		defer ft.Stop()
		faultC = ft.C
	}
	end := time.NewTimer(s.o.Duration)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.srv.done:
			return fmt.Errorf("the server exited during the soak")
		case <-end.C:
			if time.Since(s.lastAt) < s.o.Every/2 {
				return nil // sampled just now
			}
			return s.sample(ctx)
		case <-sampleT.C:
			if err := s.sample(ctx); err != nil {
				return err
			}
		case <-faultC:
			if err := s.fault(ctx); err != nil {
				return err
			}
		}
	}
}

// soakFaults are injected in turn, each on the next venue; timed ones
// last 20 s of real time.
var soakFaults = []string{sim.FaultDrop, sim.FaultRefuse, sim.FaultSkipFinal, sim.FaultSilence, sim.FaultMalformed, sim.FaultREST5xx}

func (s *soakRun) fault(ctx context.Context) error {
	i := len(s.res.Faults)
	vs := venuesOf(s.o.Markets)
	venue, kind := vs[i%len(vs)], soakFaults[i%len(soakFaults)]
	d := time.Duration(20 * s.o.Speed * float64(time.Second))
	if err := injectFault(ctx, s.simAddr, venue, kind, d); err != nil {
		return err
	}
	f := fmt.Sprintf("%s %s:%s", time.Since(s.start).Round(time.Second), venue, kind)
	s.res.Faults = append(s.res.Faults, f)
	fmt.Fprintf(s.log, "soak: fault %s\n", f)
	return nil
}

// sample scrapes the server and records a row.
func (s *soakRun) sample(ctx context.Context) error {
	m, err := scrape(ctx, s.srv.base)
	if err != nil {
		return err
	}
	now := time.Now()
	row := soakSample{Elapsed: now.Sub(s.start).Seconds(), RSSMiB: m.RSS / (1 << 20), Goroutines: int(m.Goroutines), Conns: int(m.Conns), Drops: int(m.Drops)}
	if !s.lastAt.IsZero() {
		row.CPUPercent = 100 * (m.CPUSeconds - s.lastCPU) / now.Sub(s.lastAt).Seconds()
	}
	s.lastCPU, s.lastAt = m.CPUSeconds, now
	s.res.Samples = append(s.res.Samples, row)
	fmt.Fprintf(s.log, "soak: %6.0fs rss %.1f MiB, %d goroutines, cpu %.0f%%, %d conns, %d slow drops\n",
		row.Elapsed, row.RSSMiB, row.Goroutines, row.CPUPercent, row.Conns, row.Drops)
	return nil
}

// verify waits for the store to hold every bin of the window final (from
// the first bin that opened after the clients connected, at s0, to the last
// that closed by s1, simulated time), then for the clients to have them.
func (s *soakRun) verify(ctx context.Context, s0, s1 int64) error {
	deadline := time.Now().Add(s.o.Settle)
	var expected map[string][]int64
	for {
		var err error
		if expected, s.res.Unsettled, err = s.storeFinals(ctx, s0, s1); err != nil {
			return err
		}
		if s.res.Unsettled == 0 || time.Now().After(deadline.Add(-s.o.Settle/2)) {
			break
		}
		upstream.Sleep(ctx, 5*time.Second) //nolint:errcheck // a cancelled wait ends the loop
	}
	for _, ts := range expected {
		s.res.Bins += len(ts)
	}
	for {
		if err := s.check(expected); err != nil {
			return err
		}
		if s.res.Missing == 0 || time.Now().After(deadline) {
			break
		}
		upstream.Sleep(ctx, 5*time.Second) //nolint:errcheck // a cancelled wait ends the loop
	}
	s.summarize()
	return nil
}

// storeFinals reads the final candles of the window from the server, by
// stream, and counts the window's bins not final (or not stored).
func (s *soakRun) storeFinals(ctx context.Context, s0, s1 int64) (map[string][]int64, int, error) {
	out := map[string][]int64{}
	unsettled := 0
	for _, iv := range s.o.Intervals {
		ms := iv.Millis()
		lo, hi := (s0+ms-1)/ms*ms, s1/ms*ms // bins [lo, hi)
		for _, m := range s.o.Markets {
			stream := market.Series{Market: m, Interval: iv}.String()
			ts, err := s.finalsOf(ctx, m, iv, lo, hi)
			if err != nil {
				return nil, 0, err
			}
			out[stream] = ts
			unsettled += max(int((hi-lo)/ms)-len(ts), 0)
		}
	}
	return out, unsettled, nil
}

// finalsOf pages through /v1/candles for the open times of the final
// candles in [lo, hi).
func (s *soakRun) finalsOf(ctx context.Context, m market.Market, iv market.Interval, lo, hi int64) ([]int64, error) {
	var ts []int64
	for lo < hi {
		var page struct {
			Candles []struct {
				T     int64 `json:"t"`
				Final bool  `json:"final"`
			} `json:"candles"`
		}
		q := url.Values{"market": {m.String()}, "interval": {string(iv)}, "from": {fmt.Sprint(lo)}, "to": {fmt.Sprint(hi)}, "limit": {"5000"}}
		if err := getJSON(ctx, s.srv.base+"/v1/candles?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		for _, c := range page.Candles {
			if c.Final {
				ts = append(ts, c.T)
			}
		}
		if len(page.Candles) < 5000 {
			break
		}
		lo = page.Candles[len(page.Candles)-1].T + iv.Millis()
	}
	return ts, nil
}

// check asks every client process for its deliveries.
func (s *soakRun) check(expected map[string][]int64) error {
	s.res.Transports = nil
	s.res.Missing = 0
	for _, p := range s.procs {
		c, err := p.Check(expected)
		if err != nil {
			return err
		}
		s.res.Transports = append(s.res.Transports, c)
		s.res.Missing += c.Missing
	}
	fmt.Fprintf(s.log, "soak: checked deliveries: %d missing\n", s.res.Missing)
	return nil
}

func (s *soakRun) summarize() {
	r := &s.res
	r.Expected, r.Received, r.Duplicates, r.Reconnects = 0, 0, 0, 0
	for _, c := range r.Transports {
		r.Expected += c.Expected
		r.Received += c.Received
		r.Duplicates += c.Duplicates
		r.Reconnects += c.Reconnects
	}
	for _, x := range r.Samples {
		r.MaxRSSMiB = max(r.MaxRSSMiB, x.RSSMiB)
	}
	if n := len(r.Samples); n > 0 {
		r.RSSGrowthMiB = r.Samples[n-1].RSSMiB - r.Samples[0].RSSMiB
		r.GoroutineGrowth = r.Samples[n-1].Goroutines - r.Samples[0].Goroutines
	}
}

// Print writes the samples as a table and the summary.
func (r SoakResult) Print(w io.Writer) {
	fmt.Fprintf(w, "soak: %.0f s at sim speed %g; clients %v; %d streams; %d faults\n\n", r.Seconds, r.Speed, r.Clients, len(r.Streams), len(r.Faults))
	fmt.Fprintf(w, "| time | RSS MiB | goroutines | CPU %% | conns | slow drops |\n|---|---|---|---|---|---|\n")
	for _, x := range r.Samples {
		fmt.Fprintf(w, "| %s | %.1f | %d | %.0f | %d | %d |\n", time.Duration(x.Elapsed*float64(time.Second)).Round(time.Second).String(), x.RSSMiB, x.Goroutines, x.CPUPercent, x.Conns, x.Drops)
	}
	fmt.Fprintf(w, "\n| transport | clients | reconnects | expected | received | missing | duplicates |\n|---|---|---|---|---|---|---|\n")
	for _, c := range r.Transports {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d |\n", c.Transport, c.Clients, c.Reconnects, c.Expected, c.Received, c.Missing, c.Duplicates)
	}
	fmt.Fprintf(w, "\nfinal bins in the window: %d (%d not final in the store at the end)\n", r.Bins, r.Unsettled)
	fmt.Fprintf(w, "deliveries: %d expected, %d received, %d missing, %d duplicates\n", r.Expected, r.Received, r.Missing, r.Duplicates)
	fmt.Fprintf(w, "max RSS %.1f MiB; RSS growth %+.1f MiB; goroutine growth %+d (first to last sample)\n", r.MaxRSSMiB, r.RSSGrowthMiB, r.GoroutineGrowth)
	for _, c := range r.Transports {
		for _, e := range c.Examples {
			fmt.Fprintf(w, "missing: %s\n", e)
		}
	}
}

// SoakOptions are what one soak runs: clients per transport, for how
// long, sampling the server every Every, the simulator's speed, a fault
// every FaultEvery, the markets and intervals followed, and how long the
// end waits for the last finals and deliveries.
type SoakOptions struct {
	WS, SSE, Poll int
	Duration      time.Duration
	Every         time.Duration
	Speed         float64
	FaultEvery    time.Duration
	Markets       []market.Market
	Intervals     []market.Interval
	Settle        time.Duration
}

// streams are every market at every interval.
func (o SoakOptions) streams() []string {
	var ss []string
	for _, iv := range o.Intervals {
		for _, m := range o.Markets {
			ss = append(ss, market.Series{Market: m, Interval: iv}.String())
		}
	}
	return ss
}

// Soak sets up, runs and checks one soak.
func Soak(ctx context.Context, o SoakOptions, stderr io.Writer) (SoakResult, error) {
	dir, err := os.MkdirTemp("", "candlewire-soak-")
	if err != nil {
		return SoakResult{}, err
	}
	defer os.RemoveAll(dir)
	simAddr, stopSim, err := StartSim(ctx, o.Markets, o.Speed, "", stderr)
	if err != nil {
		return SoakResult{}, err
	}
	defer stopSim()
	srv, err := startRunChild(ctx, dir, simAddr, o.Markets, o.Speed, stderr)
	if err != nil {
		return SoakResult{}, err
	}
	defer srv.stop()
	procs, err := startSoakClients(ctx, o, srv.base, stderr)
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	if err != nil {
		return SoakResult{}, err
	}
	s := &soakRun{o: o, simAddr: simAddr, srv: srv, procs: procs, log: stderr}
	return s.run(ctx)
}

// startSoakClients starts a client process per transport with clients.
func startSoakClients(ctx context.Context, o SoakOptions, base string, log io.Writer) ([]*SoakProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var procs []*SoakProcess
	for _, tn := range []struct {
		transport string
		n         int
	}{{"ws", o.WS}, {"sse", o.SSE}, {"longpoll", o.Poll}} {
		if tn.n == 0 {
			continue
		}
		fmt.Fprintf(log, "soak: connecting %d %s clients\n", tn.n, tn.transport)
		p, err := StartSoakClients(ctx, exe, base, tn.transport, tn.n, o.streams())
		if err != nil {
			return procs, err
		}
		procs = append(procs, p)
		fmt.Fprintf(log, "soak: %d %s clients connected\n", p.Connected, tn.transport)
	}
	return procs, nil
}
