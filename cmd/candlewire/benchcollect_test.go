package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBenchCollect runs a small `candlewire bench collect`: markets on every
// venue from a simulator child process, a fault on one venue, and every
// market's candles checked against the trade log. Forming bins are held
// for 2 simulated minutes (4 s at speed 30), so most of their versions
// wait in the writer's queue: every minute must still end exact.
func TestBenchCollect(t *testing.T) {
	if testing.Short() {
		t.Skip("collects for 14 s")
	}
	cmd := exec.Command(os.Args[0], "bench", "collect", "--markets", "12", "--speed", "30", "--duration", "14s",
		"--fault", "bybit:drop@1m,bybit:refuse@1m+30s", "--forming-every", "2m")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "complete: 12 of 12 markets") {
		t.Fatalf("bench collect: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
