package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/api/apitest"
)

// TestThousandClientsPerTransport runs 1,000 concurrent clients of each
// transport against a real `candlewire run --sim` at 120x (two simulated
// minutes a second): every client receives every final 1m candle once, in
// order, with no minute missing, and a client that leaves and comes back
// with its cursor has missed nothing. The server and the clients run
// without the race detector (see withoutRace).
func TestThousandClientsPerTransport(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 clients per transport take about a minute")
	}
	if withoutRace(t) {
		return
	}
	// lag is how far (exchange time) a client may trail the newest final
	// when the test stops: 5 s of real time on a loaded 2-core machine.
	const clients, listen, lag = 1000, 8 * time.Second, 10 * 60_000
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("serve: {max_conns_per_ip: -1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startExe(t, loadBinary(t), "run", "--sim", "--sim-speed", "120", "--db", filepath.Join(dir, "c.db"), "--listen", "127.0.0.1:0", "--config", cfg)
	defer p.stop(t)
	base := "http://" + p.addr
	apitest.PollEvery = time.Second
	defer func() { apitest.PollEvery = 20 * time.Millisecond }()
	for _, tr := range apitest.Transports {
		t.Run(tr.Name, func(t *testing.T) {
			since := head(t, base)
			ctx, cancel := context.WithTimeout(context.Background(), listen)
			defer cancel()
			finals := make([][]int64, clients)
			revs := make([][]string, clients)
			resumed := make(chan []int64, 1)
			go func() { resumed <- leaveAndResume(ctx, tr.Run, base, since) }()
			var wg sync.WaitGroup
			for i := range clients {
				out := make(chan apitest.Msg, 256)
				wg.Add(2)
				go func() { defer wg.Done(); tr.Run(ctx, base, []string{"binance:BTCUSDT@1m"}, since, out); close(out) }() //nolint:errcheck // ends with ctx
				go func() {
					defer wg.Done()
					for m := range out {
						if m.Candle.Final {
							finals[i] = append(finals[i], m.Candle.T)
							revs[i] = append(revs[i], fmt.Sprintf("%+v cursor %d", m.Candle, m.Cursor))
						}
					}
				}()
			}
			wg.Wait()
			last := int64(0)
			for _, f := range finals {
				if len(f) > 0 {
					last = max(last, f[len(f)-1])
				}
			}
			for i, f := range finals {
				if len(f) < 3 { // 16 with the machine to itself; a loaded one (CI beside a soak) delivered 4
					t.Fatalf("client %d received %d finals in %s at 120x (16 minutes), want at least 3", i, len(f), listen)
				}
				for j := 1; j < len(f); j++ {
					if f[j] != f[j-1]+60_000 {
						t.Fatalf("client %d: final %d (%s) after %d (%s): missing, repeated or out of order", i, f[j], revs[i][j], f[j-1], revs[i][j-1])
					}
				}
				if f[len(f)-1] < last-lag {
					t.Fatalf("client %d fell behind: last final %d, newest %d", i, f[len(f)-1], last)
				}
			}
			t.Logf("%d clients, %d–%d finals each", clients, len(finals[0]), len(finals[clients-1]))
			// A client that left for two seconds (four simulated minutes) and
			// came back with its cursor has every final once, in order.
			r := <-resumed
			for j := 1; j < len(r); j++ {
				if r[j] != r[j-1]+60_000 {
					t.Fatalf("resumed client: final %d after %d (all %v)", r[j], r[j-1], r)
				}
			}
			if len(r) < 5 || r[len(r)-1] < last-lag {
				t.Fatalf("resumed client has finals %v; the others reached %d", r, last)
			}
		})
	}
}

// head returns the server's current cursor.
func head(t *testing.T, base string) int64 {
	resp, err := http.Get(base + "/v1/candles?market=binance:BTCUSDT&limit=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		Cursor int64 `json:"cursor"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Cursor
}

// leaveAndResume runs a client for 3 s, leaves for 2 s, comes back with
// its cursor until ctx ends, and returns the open times of the finals it
// received, in order.
func leaveAndResume(ctx context.Context, run apitest.Client, base string, since int64) []int64 {
	var finals []int64
	session := func(ctx context.Context, since int64) int64 {
		out := make(chan apitest.Msg, 256)
		done := make(chan int64)
		go func() { c, _ := run(ctx, base, []string{"binance:BTCUSDT@1m"}, since, out); close(out); done <- c }()
		for m := range out {
			if m.Candle.Final {
				finals = append(finals, m.Candle.T)
			}
		}
		return <-done
	}
	first, cancel := context.WithTimeout(ctx, 3*time.Second)
	cursor := session(first, since)
	cancel()
	select {
	case <-ctx.Done():
		return finals
	case <-time.After(2 * time.Second):
	}
	session(ctx, cursor)
	return finals
}
