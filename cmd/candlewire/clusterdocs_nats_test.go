package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/candlewire/candlewire/internal/bench"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/sim"
)

// docSim starts a simulator of the config's markets' venues and returns
// the --ws-url and --rest-url flags that point a collector at it.
func docSim(t *testing.T, cfg string) []string {
	t.Helper()
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatalf("the doc's configuration: %v", err)
	}
	s := sim.New(sim.Config{Seed: 2031, Speed: 1, History: 10 * time.Minute})
	registry.MountSims(s)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	var flags []string
	seen := map[string]bool{}
	for _, name := range c.Markets {
		v, _, _ := strings.Cut(name, ":")
		d, err := registry.Lookup(v)
		if err != nil {
			t.Fatal(err)
		}
		if !seen[v] {
			seen[v] = true
			flags = append(flags, "--ws-url", v+"="+ws+"/"+v+d.Sim.WSPath, "--rest-url", v+"="+srv.URL+"/"+v)
		}
	}
	return flags
}

// writeDocConfig writes the doc's shared configuration to path with its
// db at dsn and its NATS servers nats-K at urls[K-1].
func writeDocConfig(t *testing.T, doc clusterDocText, path, dsn string, urls []string) {
	t.Helper()
	text := doc.block(t, "the shared YAML configuration", func(b docBlock) bool { return b.info == "yaml" })
	r := rewriter{t: t, what: "the shared configuration", text: text}
	r.sub(`(?m)^db: .*$`, func([]string) string { return "db: " + dsn })
	r.sub(`nats://nats-(\d+):\d+`, func(m []string) string { return urls[r.index(m[1], len(urls))] })
	if err := os.WriteFile(path, []byte(r.text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rewriter changes what must change in a configuration of the doc's.
type rewriter struct {
	t    *testing.T
	what string
	text string
}

// sub replaces each match of pattern with repl of its submatches; the
// doc's text must have one.
func (r *rewriter) sub(pattern string, repl func(m []string) string) {
	r.t.Helper()
	re := regexp.MustCompile(pattern)
	if !re.MatchString(r.text) {
		r.t.Fatalf("%s in %s has nothing like %s:\n%s", r.what, clusterDoc, pattern, r.text)
	}
	r.text = re.ReplaceAllStringFunc(r.text, func(s string) string { return repl(re.FindStringSubmatch(s)) })
}

// index is the 0-based index of server number k (nats-K) among n.
func (r *rewriter) index(k string, n int) int {
	i, err := strconv.Atoi(k)
	if err != nil || i < 1 || i > n {
		r.t.Fatalf("%s in %s names server nats-%s of %d", r.what, clusterDoc, k, n)
	}
	return i - 1
}

// startDocNATS runs the doc's NATS configuration as three servers on
// loopback, the way the doc starts them, and returns their client URLs
// once JetStream has a leader.
func startDocNATS(t *testing.T, doc clusterDocText) []string {
	t.Helper()
	bin := natsServerBinary(t)
	if v, err := exec.Command(bin, "--version").Output(); err == nil {
		t.Logf("%s: %s", bin, bytes.TrimSpace(v))
	}
	conf := doc.block(t, "the NATS configuration", func(b docBlock) bool { return strings.Contains(b.body, "jetstream") })
	cmd := strings.Fields(doc.inline(t, "nats-server -c "))
	const n = 3
	p := freePorts(t, 2*n)
	client, route := p[:n], p[n:]
	var urls []string
	dir := t.TempDir()
	for i := range n {
		file := filepath.Join(dir, fmt.Sprintf("nats-%d.conf", i+1))
		text := natsConfig(t, conf, i, client, route, filepath.Join(dir, fmt.Sprintf("store-%d", i+1)))
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		args := slices.Clone(cmd[1:])
		args[slices.Index(args, "-c")+1] = file
		startNATS(t, bin, args)
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
	}
	waitMetaLeader(t, urls)
	return urls
}

// natsConfig is the doc's configuration of nats-1 made server i's of
// three on one machine: its own name, loopback ports and store.
func natsConfig(t *testing.T, conf string, i int, client, route []int, store string) string {
	t.Helper()
	r := rewriter{t: t, what: "the NATS configuration", text: conf}
	r.sub(`(?m)^server_name: \S+$`, func([]string) string { return fmt.Sprintf("server_name: nats-%d", i+1) })
	r.sub(`(?m)^listen: \S+$`, func([]string) string { return fmt.Sprintf("listen: 127.0.0.1:%d", client[i]) })
	r.sub(`(?m)^(\s+)listen: \S+$`, func(m []string) string { return fmt.Sprintf("%slisten: 127.0.0.1:%d", m[1], route[i]) })
	r.sub(`store_dir: [^\s}]+`, func([]string) string { return "store_dir: " + strconv.Quote(store) })
	r.sub(`nats://nats-(\d+):\d+`, func(m []string) string {
		return fmt.Sprintf("nats://127.0.0.1:%d", route[r.index(m[1], len(route))])
	})
	return r.text
}

// natsServerBinary is nats-server from PATH or $(go env GOPATH)/bin. Without
// it the test skips, or fails where CANDLEWIRE_REQUIRE_NATS_SERVER (or
// CI's CANDLEWIRE_REQUIRE_TOOLS) is set.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	p, err := bench.NATSServer("")
	if err == nil {
		return p
	}
	msg := err.Error() + " (scripts/test installs it)"
	if os.Getenv("CANDLEWIRE_REQUIRE_NATS_SERVER") != "" || os.Getenv("CANDLEWIRE_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// freePorts are n distinct TCP ports nothing listens on now, on
// loopback.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out
}

// startNATS runs nats-server with args until the test ends, when it is
// killed (and its log shown if the test failed).
func startNATS(t *testing.T, bin string, args []string) {
	t.Helper()
	var log bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck // it may have exited
		cmd.Wait()         //nolint:errcheck // killed on purpose
		if t.Failed() {
			t.Logf("log of nats-server %v:\n%s", args, log.String())
		}
	})
}

// waitMetaLeader waits until the servers at urls have a JetStream meta
// leader: a stream of three replicas can be made.
func waitMetaLeader(t *testing.T, urls []string) {
	t.Helper()
	start := time.Now()
	for {
		err := probeJetStream(strings.Join(urls, ","))
		if err == nil {
			t.Logf("JetStream took a stream of 3 replicas after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the NATS servers have no JetStream leader after 30 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// probeJetStream makes (and deletes) a stream of three replicas.
func probeJetStream(urls string) error {
	nc, err := nats.Connect(urls, nats.Timeout(time.Second))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "DOCS_PROBE", Subjects: []string{"docs.probe"},
		Replicas: 3, Storage: jetstream.MemoryStorage})
	if err != nil {
		return fmt.Errorf("create a stream of 3 replicas: %w", err)
	}
	if err := js.DeleteStream(ctx, "DOCS_PROBE"); err != nil {
		return fmt.Errorf("delete the probe stream: %w", err)
	}
	return nil
}
