package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestBenchSoak runs a small `candlewire bench soak` end to end: run and
// the simulator as child processes, clients of every transport, faults
// injected, the server sampled, and every final candle of the window
// delivered to every client. The settle time is generous for a loaded
// machine; nothing depends on tight timing.
func TestBenchSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soaks for 25 s")
	}
	cmd := exec.Command(os.Args[0], "bench", "soak", "--ws", "20", "--sse", "5", "--poll", "5", "--duration", "25s",
		"--every", "5s", "--speed", "60", "--fault-every", "8s", "--intervals", "1m,5m", "--settle", "3m", "--json")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench soak: %v\n%s", err, out)
	}
	var r struct {
		Clients map[string]int `json:"clients"`
		Faults  []string       `json:"faults"`
		Samples []struct {
			RSSMiB float64 `json:"rss_mib"`
		} `json:"samples"`
		Transports []struct {
			Transport string `json:"transport"`
			Expected  int64  `json:"expected"`
			Missing   int64  `json:"missing"`
		} `json:"transports"`
		Expected int64 `json:"expected"`
		Missing  int64 `json:"missing"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Clients["ws"] != 20 || r.Clients["sse"] != 5 || r.Clients["longpoll"] != 5 {
		t.Errorf("connected: %v", r.Clients)
	}
	if len(r.Faults) < 2 || len(r.Samples) < 3 || r.Samples[0].RSSMiB <= 0 {
		t.Errorf("faults %v, %d samples: %s", r.Faults, len(r.Samples), out)
	}
	if r.Expected == 0 || r.Missing != 0 || len(r.Transports) != 3 {
		t.Errorf("deliveries: %s", out)
	}
	for _, tr := range r.Transports {
		if tr.Expected == 0 {
			t.Errorf("%s: nothing expected", tr.Transport)
		}
	}
}
