package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/candlewire/candlewire/internal/bench"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
)

// TestBenchCluster runs a small `candlewire bench cluster` end to end:
// three nats-server processes, three collectors and two gateways on a
// PostgreSQL database of its own, WebSocket clients and probes, a
// collector's kill -9 and a NATS outage, then the single node; every
// figure is reported and every client got every final candle once.
func TestBenchCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("a cluster for two minutes")
	}
	natsServerBinary(t)
	db := pgtest.Fresh(t)
	cmd := exec.Command(os.Args[0], "bench", "cluster", "--db", db, "--markets", "12", "--clients", "20", "--speed", "10",
		"--warmup", "5s", "--steady", "15s", "--outage", "3s", "--probe", "6", "--settle", "2m", "--json")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench cluster: %v\n%s", err, out)
	}
	var r bench.ClusterResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(r.Nodes) != 8 || r.Latency.Samples == 0 || r.Single == nil || r.Single.Latency.Samples == 0 {
		t.Errorf("nodes and latency: %s", out)
	}
	for _, n := range r.Nodes {
		if n.CPUPercent <= 0 || n.RSSMiB <= 0 {
			t.Errorf("%s: cpu %v%%, rss %v MiB", n.Name, n.CPUPercent, n.RSSMiB)
		}
	}
	if f := r.Failover; f.Markets == 0 || f.OwnerMoved <= 0 || f.NextFinal.Samples != f.Markets {
		t.Errorf("failover: %+v", f)
	}
	if len(r.CatchUp) != 2 || r.CatchUp[0].BusResumed <= 0 || r.CatchUp[1].BusResumed <= 0 {
		t.Errorf("catch-up: %+v", r.CatchUp)
	}
	if f := r.Finals; f.Expected == 0 || f.Missing != 0 || f.Duplicates != 0 {
		t.Errorf("finals: %+v", f)
	}
}
