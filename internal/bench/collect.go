package bench

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// CollectResult is what `candlewire bench collect` measured.
type CollectResult struct {
	Markets      int      `json:"markets"`
	Venues       int      `json:"venues"`
	Complete     int      `json:"complete_markets"` // every checked minute stored once, final and exact
	Minutes      int      `json:"minutes_checked"`
	Wrong        int      `json:"minutes_wrong_or_missing"`
	Connects     float64  `json:"connects"`       // attempts, refused ones included
	Connected    float64  `json:"connected_peak"` // open connections, most at once
	HeapPeakMiB  float64  `json:"heap_inuse_peak_mib"`
	Trades       float64  `json:"messages"`
	GapsFilled   float64  `json:"gap_repairs"`
	Seconds      float64  `json:"seconds"`
	CPUSeconds   float64  `json:"cpu_seconds"`
	CPUPercent   float64  `json:"cpu_percent_of_one_core"`
	PeakRSSMiB   float64  `json:"peak_rss_mib"`
	HeapMiB      float64  `json:"heap_inuse_mib_at_end"`
	Goroutines   int      `json:"goroutines_at_end"`
	Fault        string   `json:"fault"`
	SimSpeed     float64  `json:"sim_speed"`
	FirstChecked string   `json:"first_minute_checked"`
	LastChecked  string   `json:"last_minute_checked"`
	Incomplete   []string `json:"incomplete,omitempty"` // market: what was wrong
}

// Print writes the result for a person.
func (res CollectResult) Print(w io.Writer) {
	fmt.Fprintf(w, "%d markets on %d venues over %.0f connections at most (%.0f connects), %.0f messages in %.0f s (sim speed %g, fault %s)\n",
		res.Markets, res.Venues, res.Connected, res.Connects, res.Trades, res.Seconds, res.SimSpeed, res.Fault)
	fmt.Fprintf(w, "complete: %d of %d markets; %d minutes checked (%s..%s), %d wrong or missing; %.0f gap repairs\n",
		res.Complete, res.Markets, res.Minutes, res.FirstChecked, res.LastChecked, res.Wrong, res.GapsFilled)
	fmt.Fprintf(w, "cpu %.1f s (%.1f%% of one core), peak RSS %.1f MiB, heap in use at most %.1f MiB (%.1f at the end)\n",
		res.CPUSeconds, res.CPUPercent, res.PeakRSSMiB, res.HeapPeakMiB, res.HeapMiB)
	for _, s := range res.Incomplete {
		fmt.Fprintf(w, "  incomplete %s\n", s)
	}
}

// Markets spreads n markets over the venues, named as each names them.
func Markets(n int) []market.Market {
	ds := registry.All()
	out := make([]market.Market, 0, n)
	for i := 0; len(out) < n; i++ {
		d := ds[i%len(ds)]
		out = append(out, market.Market{Venue: d.Name, Symbol: d.Sim.BenchSymbol(i / len(ds))})
	}
	return out
}

// StartSim runs `candlewire sim` in a child process, so that this
// process's CPU and memory are the collector's alone.
func StartSim(ctx context.Context, ms []market.Market, speed float64, faults string, stderr io.Writer) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.String()
	}
	args := []string{"sim", "--listen", "127.0.0.1:0", "--speed", fmt.Sprint(speed), "--symbols", strings.Join(names, ","), "--log", "warn"}
	for _, f := range strings.Split(faults, ",") {
		if f = strings.TrimSpace(f); f != "" {
			args = append(args, "--fault", f)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, exe, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		return "", nil, fmt.Errorf("start the simulator: %w", err)
	}
	stop := func() { cancel(); cmd.Wait() } //nolint:errcheck // killed on purpose
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "candlewire simulator on ")
	if err != nil || !ok {
		stop()
		return "", nil, fmt.Errorf("the simulator said %q: %v", line, err)
	}
	go io.Copy(io.Discard, out) //nolint:errcheck // drain the rest of its listing
	return addr, stop, nil
}

// Collect is one bench collect run: the markets from the simulator at
// SimAddr for Duration into a fresh database, through venues Venues builds,
// then a check of every market against the simulator's trade log.
type Collect struct {
	Markets  []market.Market
	SimAddr  string
	Duration time.Duration
	Logger   *slog.Logger
	Profile  io.Writer // the collector's CPU profile over the run, when not nil
	// FormingEvery is collector.Config.FormingEvery, in real time.
	FormingEvery time.Duration
	// Open opens the store to collect into; nil means a fresh SQLite file
	// in a temporary directory. It must be empty.
	Open func(ctx context.Context) (store.Store, error)
	// Venues builds the collector's venues for the markets against the
	// simulator at SimAddr, recording connects in conns.
	Venues func(ctx context.Context, ms []market.Market, conns upstream.ConnectLog, met *metrics.Metrics) ([]collector.Venue, error)
}

// Run collects and checks.
func (b Collect) Run(ctx context.Context) (CollectResult, error) {
	if b.Open == nil {
		dir, err := os.MkdirTemp("", "candlewire-bench-collect")
		if err != nil {
			return CollectResult{}, err
		}
		defer os.RemoveAll(dir)
		b.Open = func(ctx context.Context) (store.Store, error) {
			return sqlite.Open(ctx, filepath.Join(dir, "bench.db"), nil)
		}
	}
	st, err := b.Open(ctx)
	if err != nil {
		return CollectResult{}, err
	}
	defer st.Close()
	met := metrics.New(prometheus.NewRegistry())
	venues, err := b.Venues(ctx, b.Markets, st, met)
	if err != nil {
		return CollectResult{}, err
	}
	col, err := collector.New(collector.Config{Store: st, Venues: venues, Metrics: met, Logger: b.Logger,
		FormingEvery: b.FormingEvery})
	if err != nil {
		return CollectResult{}, err
	}
	res, err := runAndCheck(ctx, col, met, st, b.SimAddr, b.Markets, b.Duration, b.Profile)
	res.Markets, res.Venues = len(b.Markets), len(venues)
	return res, err
}

// runAndCheck runs col for d, waits for the finals due, and checks the
// window [first minute after the start, two minutes before the end).
func runAndCheck(ctx context.Context, col *collector.Collector, met *metrics.Metrics, st store.Store, addr string,
	ms []market.Market, d time.Duration, prof io.Writer) (CollectResult, error) {
	startSim, err := simNow(addr)
	if err != nil {
		return CollectResult{}, err
	}
	from, to := market.I1m.Truncate(startSim)+market.I1m.Millis(), int64(0)
	// After d, the window checked ends with the finals due (two minutes
	// before the simulator's clock); the collector runs on until they are
	// stored (settleFor at most), as a loaded machine repairs late.
	settle := func(ctx context.Context) {
		if endSim, err := simNow(addr); err == nil {
			to = market.I1m.Truncate(endSim) - 2*market.I1m.Millis()
			waitFinal(ctx, st, ms, from, to, settleFor)
		}
	}
	res, err := measureCollect(ctx, col, met, d, prof, settle)
	if err != nil || to == 0 {
		return res, cmp.Or(err, errors.New("bench collect: stopped before the end of its run"))
	}
	res.FirstChecked, res.LastChecked = fmtMinute(from), fmtMinute(to-market.I1m.Millis())
	return res, checkMarkets(ctx, st, "http://"+addr, ms, from, to, &res)
}

// settleFor is the longest bench collect waits after its run for the
// finals due (and their repairs) to be stored.
const settleFor = 30 * time.Second

// waitFinal waits until every minute of ms in [from, to) is stored
// reconciled, or d has passed.
func waitFinal(ctx context.Context, st store.Store, ms []market.Market, from, to int64, d time.Duration) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		done := true
		for _, m := range ms {
			cs, err := st.Candles(ctx, m, market.I1m, from, to)
			done = done && err == nil && len(collector.Missing(cs, from, to, nil)) == 0
		}
		if done || upstream.Sleep(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
}

// measureCollect runs col for d and then while settle waits (profiling the
// CPU into prof, when not nil), and reports the process's CPU, memory, connections and the metrics' sums.
func measureCollect(ctx context.Context, col *collector.Collector, met *metrics.Metrics, d time.Duration, prof io.Writer,
	settle func(context.Context)) (CollectResult, error) {
	cpu0, began := cpu(), time.Now()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	peaks := samplePeaks(cctx, met)
	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err != nil {
			return CollectResult{}, err
		}
	}
	ran := make(chan error, 1)
	go func() { ran <- col.Run(cctx) }()
	if upstream.Sleep(ctx, d) == nil {
		settle(ctx)
	}
	cancel()
	err := <-ran
	if prof != nil {
		pprof.StopCPUProfile()
	}
	pk := <-peaks
	res := CollectResult{Seconds: time.Since(began).Seconds(), CPUSeconds: (cpu() - cpu0).Seconds(),
		Goroutines: runtime.NumGoroutine(), PeakRSSMiB: peakRSS(), Connects: metrics.Sum(met.Connects),
		Connected: pk.connected, HeapPeakMiB: pk.heapMiB,
		Trades: metrics.Sum(met.Messages), GapsFilled: metrics.Sum(met.GapsFilled)}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	res.HeapMiB, res.CPUPercent = float64(mem.HeapInuse)/(1<<20), 100*res.CPUSeconds/res.Seconds
	return res, err
}

// checkMarkets compares every market's stored minutes in [from, to) with
// the simulator's trade log.
func checkMarkets(ctx context.Context, st store.Store, base string, ms []market.Market, from, to int64, res *CollectResult) error {
	for _, m := range ms {
		d, err := registry.Lookup(m.Venue)
		if err != nil {
			return err
		}
		want, err := oracle.Expected(base, m, d.Sim.Convention, from, to)
		if err != nil {
			return err
		}
		got, err := st.Candles(ctx, m, market.I1m, from, to)
		if err != nil {
			return err
		}
		wrong := len(want) - len(got)
		var first string
		for _, c := range got {
			if c.State != market.Reconciled || oracle.Brief(c) != want[c.OpenTime] {
				wrong++
				first = cmp.Or(first, fmt.Sprintf("%s %s %s, want %s", fmtMinute(c.OpenTime), c.State, oracle.Brief(c), want[c.OpenTime]))
			}
		}
		if wrong != 0 {
			res.Incomplete = append(res.Incomplete, fmt.Sprintf("%s: %d of %d minutes stored; first wrong: %s", m, len(got), len(want), cmp.Or(first, "none")))
		}
		res.Minutes += len(want)
		res.Wrong += max(wrong, 0)
		if wrong == 0 && len(want) > 0 {
			res.Complete++
		}
	}
	return nil
}

type peaks struct{ connected, heapMiB float64 }

// samplePeaks samples open connections and heap in use every second until
// ctx ends, then sends the largest of each.
func samplePeaks(ctx context.Context, met *metrics.Metrics) <-chan peaks {
	out := make(chan peaks, 1)
	go func() {
		var p peaks
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				out <- p
				return
			case <-tick.C:
			}
			var mem runtime.MemStats
			runtime.ReadMemStats(&mem)
			p.connected = max(p.connected, metrics.Sum(met.Connected))
			p.heapMiB = max(p.heapMiB, float64(mem.HeapInuse)/(1<<20))
		}
	}()
	return out
}

func simNow(addr string) (int64, error) {
	resp, err := http.Get("http://" + addr + "/admin/clock")
	if err != nil {
		return 0, fmt.Errorf("read the simulator's clock: %w", err)
	}
	defer resp.Body.Close()
	var c struct {
		Now int64 `json:"now"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return 0, fmt.Errorf("read the simulator's clock: %w", err)
	}
	return c.Now, nil
}

// peakRSS is the process's peak resident set in MiB (Linux reports KiB).
func peakRSS() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

func fmtMinute(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }
