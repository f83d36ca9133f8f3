package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
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
	ns, err := bench.ParseClients(*counts)
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
		if err := bench.ChartRuns(*png, name, *counts, *r, results); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	bench.PrintTable(stdout, results)
	return nil
}

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
