package main

import (
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/candlewire/candlewire/internal/bench"
)

// TestBenchTransportsRuns runs `candlewire bench transports` small: four
// results, every client connected, updates delivered, bytes and CPU
// measured, no idle memory for polling, and no floor when asked for none. (The figures themselves are
// in docs/benchmarks.md.)
func TestBenchTransportsRuns(t *testing.T) {
	cmd := exec.Command(os.Args[0], "bench", "transports", "--clients", "5", "--rate", "5", "--duration", "2500ms", "--warmup", "500ms", "--json", "--no-floor")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	var rs []struct {
		Transport      string  `json:"transport"`
		Connected      int     `json:"connected"`
		Deliveries     int64   `json:"deliveries"`
		BytesPerUpdate float64 `json:"bytes_per_update"`
		ServerCPU      int64   `json:"server_cpu"`
		P50            int64   `json:"p50"`
		Floor          int64   `json:"floor_per_1000_writes"`
		IdleRSS        float64 `json:"idle_rss_bytes_per_conn"`
		Parts          []struct {
			Deliveries int64 `json:"deliveries"`
			Floor      int64 `json:"floor_per_1000_writes"`
		} `json:"parts"`
	}
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rs) != 4 {
		t.Fatalf("%d results: %s", len(rs), out)
	}
	for _, r := range rs {
		if r.Connected != 5 || r.Deliveries < 5 || r.BytesPerUpdate <= 0 || r.ServerCPU <= 0 || r.P50 <= 0 || r.Floor != 0 {
			t.Errorf("%s: %+v", r.Transport, r)
		}
		if len(r.Parts) != 1 || r.Parts[0].Deliveries != r.Deliveries || r.Parts[0].Floor != 0 {
			t.Errorf("%s: parts %+v, want one of all %d deliveries, with no floor", r.Transport, r.Parts, r.Deliveries)
		}
		if r.Transport == "poll" && r.IdleRSS != 0 {
			t.Errorf("poll: idle RSS per connection %v; polling clients hold no connection to measure", r.IdleRSS)
		}
	}
}

// TestBenchFanoutSweep runs `candlewire bench fanout` over two client
// counts with a chart: a result per count, every client served, the
// time at the socket measured (Linux), and a PNG that decodes.
func TestBenchFanoutSweep(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "fanout.png")
	args := []string{"bench", "fanout", "--clients", "3,6", "--rate", "5", "--duration", "2s", "--warmup", "500ms", "--json", "--png", chart}
	serverCPU, clientCPU := pinnable()
	if serverCPU != "" {
		args = append(args, "--server-cpus", serverCPU, "--client-cpus", clientCPU)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	var rs []struct {
		Clients    int     `json:"clients"`
		Connected  int     `json:"connected"`
		Deliveries int64   `json:"deliveries"`
		P99        int64   `json:"p99"`
		ArrivalP99 int64   `json:"arrival_p99"`
		ServerCPUs string  `json:"server_cpus"`
		ClientCPUs string  `json:"client_cpus"`
		Floor      int64   `json:"floor_per_1000_writes"`
		Sockets    int     `json:"floor_sockets"`
		Ratio      float64 `json:"floor_ratio"`
		Live       int64   `json:"live_floor_per_1000_writes"`
		LiveRatio  float64 `json:"live_floor_ratio"`
		After      int64   `json:"floor_after_run_per_1000_writes"`
		ServerCPU  int64   `json:"server_cpu"`
		Elapsed    int64   `json:"elapsed"`
		Duration   int64   `json:"duration"`
		Parts      []struct {
			Deliveries int64 `json:"deliveries"`
			CPU        int64 `json:"cpu_per_1000_deliveries"`
			Floor      int64 `json:"floor_per_1000_writes"`
		} `json:"parts"`
	}
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rs) != 2 || rs[0].Clients != 3 || rs[1].Clients != 6 {
		t.Fatalf("results %s, want one for 3 clients and one for 6", out)
	}
	for _, r := range rs {
		if r.Connected != r.Clients || r.Deliveries < int64(5*r.Clients) || r.P99 <= 0 {
			t.Errorf("%+v", r)
		}
		if runtime.GOOS == "linux" && (r.ArrivalP99 <= 0 || r.ArrivalP99 > r.P99) {
			t.Errorf("%d clients: p99 at the socket %d, want in (0, %d] (the read comes after the arrival)", r.Clients, r.ArrivalP99, r.P99)
		}
		if runtime.GOOS == "linux" && (r.ServerCPUs != serverCPU || r.ClientCPUs != clientCPU || r.Floor <= 0 || r.Sockets != r.Clients || r.Ratio <= 0) {
			t.Errorf("%d clients: pinned to %q / %q, floor %d ns per 1000 writes on %d sockets, ratio %v", r.Clients, r.ServerCPUs, r.ClientCPUs, r.Floor, r.Sockets, r.Ratio)
		}
		if runtime.GOOS == "linux" && (r.Live <= 0 || r.LiveRatio <= 0 || r.After <= 0) {
			t.Errorf("%d clients: live-reader floor %d ns per 1000 writes, ratio %v; floor after the run %d", r.Clients, r.Live, r.LiveRatio, r.After)
		}
		var sum int64
		var cpu float64
		for _, p := range r.Parts {
			sum += p.Deliveries
			cpu += float64(p.CPU) * float64(p.Deliveries) / 1000
			if runtime.GOOS == "linux" && (p.Floor <= 0 || p.CPU <= 0) {
				t.Errorf("%d clients: a part with CPU %d and a floor of %d ns per 1000", r.Clients, p.CPU, p.Floor)
			}
		}
		if runtime.GOOS == "linux" && (len(r.Parts) != 4 || sum != r.Deliveries) {
			t.Errorf("%d clients: %d parts of %d deliveries in all, want 4 parts of the run's %d", r.Clients, len(r.Parts), sum, r.Deliveries)
		}
		if d := cpu - float64(r.ServerCPU); d > 1e6 || d < -1e6 {
			t.Errorf("%d clients: the parts' CPU adds up to %.0f ns, the run's is %d", r.Clients, cpu, r.ServerCPU)
		}
		if r.Elapsed < r.Duration+int64(len(r.Parts))*500e6 {
			t.Errorf("%d clients: measured over %d ns, want the duration %d and at least 0.5 s after each of %d parts", r.Clients, r.Elapsed, r.Duration, len(r.Parts))
		}
	}
	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("chart: %v", err)
	}
}

// pinnable names the first and the last CPU this process may use, for
// the server and the clients of a pinned run; "" when it may use only one.
func pinnable() (server, client string) {
	cpus := bench.AllowedCPUs()
	if len(cpus) < 2 {
		return "", ""
	}
	return strconv.Itoa(cpus[0]), strconv.Itoa(cpus[len(cpus)-1])
}
