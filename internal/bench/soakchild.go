package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
)

// The soak's server side: `candlewire run` in a child process, collecting
// from `candlewire sim` in another (started as `bench collect` starts it),
// so that the soak can inject the simulator's faults over its admin API and
// measure the server process alone.

// runChild is the `candlewire run` process under soak.
type runChild struct {
	base string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}
}

// startRunChild starts `run` on a free port with its own database, every
// market's venue pointed at the simulator at simAddr, and no limit of
// connections per address (the soak's clients share one); it returns once
// the API answers.
func startRunChild(ctx context.Context, dir, simAddr string, ms []market.Market, speed float64, stderr io.Writer) (*runChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "soak.yaml")
	if err := os.WriteFile(cfg, []byte(childConfig(speed)), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.String()
	}
	args := []string{"run", "--config", cfg, "--db", filepath.Join(dir, "soak.db"), "--listen", port, "--markets", strings.Join(names, ","), "--log", "error"}
	for _, v := range venuesOf(ms) {
		d, err := registry.Lookup(v)
		if err != nil {
			return nil, err
		}
		ep := d.SimEndpoint(simAddr)
		args = append(args, "--ws-url", v+"="+ep.WSURL, "--rest-url", v+"="+ep.RESTURL)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	r := &runChild{base: "http://" + port, cmd: cmd, done: make(chan struct{})}
	go func() { defer close(r.done); cmd.Wait() }() //nolint:errcheck // its stderr says why
	if err := r.waitUp(ctx, ms[0]); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func venuesOf(ms []market.Market) []string {
	var vs []string
	seen := map[string]bool{}
	for _, m := range ms {
		if !seen[m.Venue] {
			seen[m.Venue] = true
			vs = append(vs, m.Venue)
		}
	}
	return vs
}

// waitUp waits (a minute at most) for /v1/candles to answer.
func (r *runChild) waitUp(ctx context.Context, m market.Market) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var head struct{}
		if err := getJSON(ctx, r.base+"/v1/candles?limit=1&market="+url.QueryEscape(m.String()), &head); err == nil {
			return nil
		}
		select {
		case <-r.done:
			return fmt.Errorf("run exited at start")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("run did not answer on %s within a minute", r.base)
}

// stop interrupts run (it stores what it collected and closes its clients)
// and kills it if it has not ended within 30 s.
func (r *runChild) stop() {
	r.cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck // it may have ended
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill() //nolint:errcheck // last resort
		<-r.done
	}
}

var soakHTTP = &http.Client{Timeout: 30 * time.Second}

func getJSON(ctx context.Context, u string, v any) error {
	body, err := get(ctx, u)
	if err != nil {
		return err
	}
	defer body.Close()
	return json.NewDecoder(body).Decode(v)
}

// get GETs u, which must answer 200 OK; the caller closes the body.
func get(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := soakHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return resp.Body, nil
}

// injectFault starts a fault over the simulator's admin API; for is
// simulated time.
func injectFault(ctx context.Context, simAddr, venue, kind string, d time.Duration) error {
	q := url.Values{"venue": {venue}, "kind": {kind}}
	if d > 0 {
		q.Set("for", d.String())
	}
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+simAddr+"/admin/fault?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := soakHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("inject %s:%s: %w", venue, kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("inject %s:%s: %s", venue, kind, resp.Status)
	}
	return nil
}

// serverSample is what /metrics says of the server process.
type serverSample struct {
	RSS        float64 // bytes
	Goroutines float64
	CPUSeconds float64
	Conns      float64 // open streaming connections, every transport
	Drops      float64 // connections the server ended as slow, so far
}

// scrape reads the sample from the server's /metrics.
func scrape(ctx context.Context, base string) (serverSample, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return serverSample{}, err
	}
	resp, err := soakHTTP.Do(req)
	if err != nil {
		return serverSample{}, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	var s serverSample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		s.take(sc.Text())
	}
	return s, sc.Err()
}

// take reads one line of the text exposition format.
func (s *serverSample) take(line string) {
	name, rest, ok := strings.Cut(line, " ")
	if !ok || strings.HasPrefix(line, "#") {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
	if err != nil {
		return
	}
	metric, labels, _ := strings.Cut(name, "{")
	switch metric {
	case "process_resident_memory_bytes":
		s.RSS = v
	case "go_goroutines":
		s.Goroutines = v
	case "process_cpu_seconds_total":
		s.CPUSeconds = v
	case "candlewire_api_connections":
		s.Conns += v
	case "candlewire_api_disconnects_total":
		if strings.Contains(labels, `reason="slow"`) {
			s.Drops += v
		}
	}
}

// childConfig is the config of a node the bench starts against a
// simulator at speed in another process: no limit of connections per
// address (the bench's clients share one), and forming bins held for a
// second of simulated time, as in-process simulation and live venues
// have them (node.FormingEvery), not a second of real time. Every flush,
// which node.FormingEvery says with -1, is 1ms here: the config takes no
// negative value, and anything up to a flush period means every flush.
func childConfig(speed float64) string {
	hold := max(node.FormingEvery(collector.DefaultFormingEvery, speed), time.Millisecond)
	return fmt.Sprintf("serve: {max_conns_per_ip: -1}\nforming_every: %s\n", hold)
}
