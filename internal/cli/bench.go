package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/bench"
)

// benchCmd runs `candlewire bench fanout|transports|collect|soak|client`.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: bench needs fanout, transports, collect or soak", errUsage)
	}
	switch args[0] {
	case "fanout":
		return benchRuns(ctx, args[1:], stdout, stderr, "fanout", 10_000, 10, []string{"ws"})
	case "transports":
		return benchRuns(ctx, args[1:], stdout, stderr, "transports", 1000, 1, bench.Transports)
	case "client":
		return benchClient(ctx, args[1:], stdout, stderr)
	case "collect":
		return benchCollect(ctx, args[1:], stdout, stderr)
	case "soak":
		return benchSoak(ctx, args[1:], stdout, stderr)
	case "soak-client":
		return benchSoakClient(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown bench %q (want fanout, transports, collect or soak)", errUsage, args[0])
}

func benchRuns(ctx context.Context, args []string, stdout, stderr io.Writer, name string, clients int, rate float64, transports []string) error {
	fs := newFlags("bench "+name, stderr)
	counts := fs.String("clients", strconv.Itoa(clients), "concurrent clients; a comma-separated list runs each count in turn")
	r := fs.Float64("rate", rate, "updates per second of the stream")
	d := fs.Duration("duration", 30*time.Second, "measured time")
	warm := fs.Duration("warmup", 3*time.Second, "publishing before the measurement")
	asJSON := fs.Bool("json", false, "print JSON results")
	png := fs.String("png", "", "also draw the results as a PNG chart to this file")
	heap := fs.String("heapprofile", "", "write a heap profile of the server with every client connected and idle")
	cpuProf := fs.String("cpuprofile", "", "write the server's CPU profile over the measured time")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ns, err := clientCounts(*counts)
	if err != nil || *r <= 0 || *d <= 0 {
		return fmt.Errorf("%w: --clients, --rate and --duration must be positive (--clients: a number or a list such as 2500,5000,10000)", errUsage)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var results []bench.Result
	for _, n := range ns {
		for _, tr := range transports {
			res, err := bench.Run(ctx, bench.Options{Transport: tr, Clients: n, Rate: *r, Duration: *d, Warmup: *warm, Exe: exe, Log: stderr, HeapProfile: *heap, CPUProfile: *cpuProf})
			if err != nil {
				return fmt.Errorf("bench %s over %s with %d clients: %w", name, tr, n, err)
			}
			results = append(results, res)
		}
	}
	if *png != "" {
		if err := benchChart(*png, name, *counts, *r, results); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	printBenchTable(stdout, results)
	return nil
}

// clientCounts reads --clients: one positive number or a list of them.
func clientCounts(s string) ([]int, error) {
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

// benchChart draws the runs; bars are labelled by transport, or by client
// count when several were run.
func benchChart(path, name, counts string, rate float64, rs []bench.Result) error {
	label := func(r bench.Result) string { return r.Transport }
	if strings.Contains(counts, ",") {
		label = func(r bench.Result) string { return fmt.Sprintf("%s %d", r.Transport, r.Clients) }
	}
	title := fmt.Sprintf("candlewire bench %s: %s clients, one stream, %g update/s", name, counts, rate)
	return bench.Chart(path, title, rs, label, name == "fanout")
}

// printBenchTable writes results as a Markdown table, as docs/benchmarks.md
// records them.
func printBenchTable(stdout io.Writer, results []bench.Result) {
	fmt.Fprintf(stdout, "| transport | clients | connected | deliveries | p50 | p99 | max | p50 / p99 / max at the socket | server CPU | client CPU | CPU per 1000 deliveries | bytes per update | requests/s | idle RSS per conn | idle Go memory per conn |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range results {
		arrival := "n/a"
		if x.ArrivalMax > 0 {
			arrival = ms(x.ArrivalP50) + " / " + ms(x.ArrivalP99) + " / " + ms(x.ArrivalMax)
		}
		fmt.Fprintf(stdout, "| %s | %d | %d | %d | %s | %s | %s | %s | %.1f%% of a core | %.1f%% of a core | %s | %.0f | %.1f | %.1f KiB | %.1f KiB |\n",
			x.Transport, x.Clients, x.Connected, x.Deliveries, ms(x.P50), ms(x.P99), ms(x.Max), arrival, 100*x.CPUShare, 100*x.ClientCPU.Seconds()/x.Duration.Seconds(),
			x.CPUPer1000.Round(time.Microsecond), x.BytesPerUpdate, x.RequestsPerSec, x.IdleRSSPerConn/1024, x.IdleMemPerConn/1024)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// benchClient is the client process of a bench run (not for direct use).
func benchClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench client", stderr)
	url := fs.String("url", "", "server base URL")
	tr := fs.String("transport", "ws", "ws, sse, longpoll or poll")
	n := fs.Int("clients", 1, "clients")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return bench.RunClients(ctx, *url, *tr, *n, os.Stdin, stdout)
}
