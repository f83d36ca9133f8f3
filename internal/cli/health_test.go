package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHealthzWhenNoVenueConnects: run collecting from a venue it cannot
// reach says so on /healthz once the venue's silence timeout has passed,
// instead of "ok".
func TestHealthzWhenNoVenueConnects(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", `venues:
  binance: {ws_url: "ws://candlewire-offline.invalid", rest_url: "http://candlewire-offline.invalid", silence_timeout: 1s}
`)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		code, _, _ := run(t, ctx, "run", "--config", cfg, "--db", filepath.Join(dir, "c.db"), "--listen", addr)
		done <- code
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exited %d", code)
		}
	}()
	var rep healthAnswer
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, r, err := tryReport("http://" + addr + "/healthz")
		if err == nil && code == 200 && r.Status == "degraded" {
			rep = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no degraded /healthz within 30 s of an unreachable venue: %d %+v %v", code, r, err)
		}
	}
	if len(rep.Reasons) != 1 || !strings.HasPrefix(rep.Reasons[0], "venue binance: no connection for ") ||
		len(rep.Markets) != 1 || rep.Markets[0].Market != "binance:BTCUSDT" {
		t.Fatalf("reasons %q, markets %+v", rep.Reasons, rep.Markets)
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tryReport(url string) (int, healthAnswer, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		return 0, healthAnswer{}, err
	}
	defer resp.Body.Close()
	var rep healthAnswer
	err = json.NewDecoder(resp.Body).Decode(&rep)
	return resp.StatusCode, rep, err
}

// TestRunLogHoldsBackRepeats: run's logger logs a store failing forty
// times a second once, then how often it repeated.
func TestRunLogHoldsBackRepeats(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	log, flush, err := runLogger(&b, logFlags{fallback: "info"})
	if err != nil {
		t.Fatal(err)
	}
	full := errors.New("database or disk is full")
	for range 40 {
		log.With("component", "writer").Error("store write failed; will retry", "err", full)
	}
	flush()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `msg="store write failed; will retry" component=writer err="database or disk is full"`) ||
		!strings.Contains(lines[1], `msg="store write failed; will retry (repeated 39 times)"`) {
		t.Fatalf("logged:\n%s", b.String())
	}
}

// healthAnswer is the part of the /healthz answer the tests read.
type healthAnswer struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
	Markets []struct {
		Market string `json:"market"`
	} `json:"markets"`
}
