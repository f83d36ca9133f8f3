package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestBenchTransportsRuns runs `candlewire bench transports` small: four
// results, every client connected, updates delivered, bytes and CPU
// measured. (The figures themselves are in docs/benchmarks.md.)
func TestBenchTransportsRuns(t *testing.T) {
	cmd := exec.Command(os.Args[0], "bench", "transports", "--clients", "5", "--rate", "5", "--duration", "2500ms", "--warmup", "500ms", "--json")
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
	}
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rs) != 4 {
		t.Fatalf("%d results: %s", len(rs), out)
	}
	for _, r := range rs {
		if r.Connected != 5 || r.Deliveries < 5 || r.BytesPerUpdate <= 0 || r.ServerCPU <= 0 || r.P50 <= 0 {
			t.Errorf("%s: %+v", r.Transport, r)
		}
	}
}
