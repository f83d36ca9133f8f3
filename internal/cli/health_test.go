package cli

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
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
	log, flush := runLogger(&b, "info")
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

// TestCandleLogFallingBehindStops: run's candle log that falls behind
// the hub says so and returns; run's group then keeps the node running
// (the log's actor waits for the group to stop it).
func TestCandleLogFallingBehindStops(t *testing.T) {
	t.Parallel()
	var h hub.Hub
	defer h.Close()
	m := market.Default
	sub := h.Subscribe(hub.Stream{Market: m, Interval: market.I1m})
	p := market.MustDecimal("1")
	for i := range 10_000 { // far past the subscriber's queue
		h.Publish([]market.Candle{{Market: m, Interval: market.I1m, OpenTime: int64(i) * 60_000, Open: p, High: p, Low: p, Close: p,
			State: market.Reconciled, Seq: int64(i + 1)}})
	}
	var b strings.Builder
	done := make(chan struct{})
	go func() { defer close(done); logFinals(sub, slog.New(slog.NewTextHandler(&b, nil))) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the candle log did not stop when it fell behind")
	}
	if !strings.Contains(b.String(), `msg="candle log stopped"`) {
		t.Fatalf("logged:\n%s", b.String())
	}
}
