package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ParseClients reads --clients: one positive number or a list of them.
func ParseClients(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("client count %q: want a positive integer", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// ChartRuns draws the runs of `bench name`; bars are labelled by transport, or by client
// count when several were run.
func ChartRuns(path, name, counts string, rate float64, rs []Result) error {
	label := func(r Result) string { return r.Transport }
	if strings.Contains(counts, ",") {
		label = func(r Result) string { return fmt.Sprintf("%s %d", r.Transport, r.Clients) }
	}
	title := fmt.Sprintf("candlewire bench %s: %s clients, one stream, %g update/s", name, counts, rate)
	return Chart(path, title, rs, label, name == "fanout")
}

// PrintTable writes results as a Markdown table, as docs/benchmarks.md
// records them.
func PrintTable(stdout io.Writer, results []Result) {
	fmt.Fprintf(stdout, "| transport | clients | connected | deliveries | p50 | p99 | max | p50 / p99 / max at the socket | server CPU | client CPU | CPU per 1000 deliveries | bare-write floor per 1000 | × floor | × floor by part | live-reader floor per 1000 | × live floor | bytes per update | requests/s | idle RSS per conn | idle Go memory per conn | CPUs server / clients |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range results {
		arrival := "n/a"
		if x.ArrivalMax > 0 {
			arrival = ms(x.ArrivalP50) + " / " + ms(x.ArrivalP99) + " / " + ms(x.ArrivalMax)
		}
		floor, times := floorCells(x.FloorPer1000, x.FloorRatio)
		live, liveTimes := floorCells(x.LiveFloorPer1000, x.LiveFloorRatio)
		idleRSS, idleMem := "n/a", "n/a" // polling clients hold nothing between requests
		if holdsConnections(x.Transport) {
			idleRSS, idleMem = fmt.Sprintf("%.1f KiB", x.IdleRSSPerConn/1024), fmt.Sprintf("%.1f KiB", x.IdleMemPerConn/1024)
		}
		fmt.Fprintf(stdout, "| %s | %d | %d | %d | %s | %s | %s | %s | %.1f%% of a core | %.1f%% of a core | %s | %s | %s | %s | %s | %s | %.0f | %.1f | %s | %s | %s / %s |\n",
			x.Transport, x.Clients, x.Connected, x.Deliveries, ms(x.P50), ms(x.P99), ms(x.Max), arrival, 100*x.CPUShare, 100*x.clientShare(),
			x.CPUPer1000.Round(time.Microsecond), floor, times, partRatios(x.Parts), live, liveTimes, x.BytesPerUpdate, x.RequestsPerSec, idleRSS, idleMem,
			orAll(x.ServerCPUs), orAll(x.ClientCPUs))
	}
}

// floorCells are a floor's table cells: its CPU per 1,000 writes and the
// run's ratio to it, n/a when it was not measured.
func floorCells(per1000 time.Duration, ratio float64) (string, string) {
	if per1000 <= 0 {
		return "n/a", "n/a"
	}
	return per1000.Round(time.Microsecond).String(), fmt.Sprintf("%.2f", ratio)
}

// clientShare is the client process's CPU, in cores, over the measured
// time.
func (r Result) clientShare() float64 {
	base := r.Elapsed
	if base <= 0 {
		base = r.Duration
	}
	return r.ClientCPU.Seconds() / base.Seconds()
}

// partRatios is each part's CPU per 1,000 deliveries over the floor
// sampled after it (n/a for a part without deliveries), n/a when no floor
// was sampled.
func partRatios(parts []Part) string {
	var out []string
	for _, p := range parts {
		switch {
		case p.FloorPer1000 <= 0:
		case p.CPUPer1000 <= 0: // no deliveries
			out = append(out, "n/a")
		default:
			out = append(out, fmt.Sprintf("%.2f", ratio(p.CPUPer1000, p.FloorPer1000)))
		}
	}
	if len(out) == 0 {
		return "n/a"
	}
	return strings.Join(out, " / ")
}

// orAll names an unpinned process's CPUs.
func orAll(cpus string) string {
	if cpus == "" {
		return "all"
	}
	return cpus
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
