package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sim"
)

// clusterDoc is the page whose commands TestClusterDocsCommands runs.
const clusterDoc = "../../docs/cluster.md"

// TestClusterDocsCommands runs what docs/cluster.md shows, as it shows
// it, on loopback: its NATS configuration on three real nats-server
// processes, its shared YAML configuration (on a fresh PostgreSQL database,
// the servers' URLs and the simulator's venues), two `candlewire collect`
// and one `candlewire serve` as written, `candlewire cluster status`
// against the sample output, `cluster drain` and `undrain`, and its
// systemd units through `systemd-analyze verify`.
func TestClusterDocsCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS servers and three candlewire processes")
	}
	doc := readClusterDoc(t)
	t.Run("systemd", func(t *testing.T) { verifyDocUnits(t, doc) })
	t.Run("cluster", func(t *testing.T) { runDocCluster(t, doc) })
}

// clusterDocText is docs/cluster.md: its text and its fenced code blocks.
type clusterDocText struct {
	text   string
	blocks []docBlock
}

// docBlock is one fenced code block: its info string (```sh) and body.
type docBlock struct{ info, body string }

func readClusterDoc(t *testing.T) clusterDocText {
	t.Helper()
	b, err := os.ReadFile(clusterDoc)
	if err != nil {
		t.Fatal(err)
	}
	d := clusterDocText{text: string(b)}
	var cur *docBlock
	for line := range strings.Lines(d.text) {
		switch {
		case strings.HasPrefix(line, "```") && cur == nil:
			cur = &docBlock{info: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
		case strings.HasPrefix(line, "```"):
			d.blocks = append(d.blocks, *cur)
			cur = nil
		case cur != nil:
			cur.body += line
		}
	}
	if cur != nil {
		t.Fatalf("%s: a code block is not closed", clusterDoc)
	}
	return d
}

// block is the doc's code block that match picks; what names it when
// there is none.
func (d clusterDocText) block(t *testing.T, what string, match func(docBlock) bool) string {
	t.Helper()
	i := slices.IndexFunc(d.blocks, match)
	if i < 0 {
		t.Fatalf("%s has no code block with %s", clusterDoc, what)
	}
	return d.blocks[i].body
}

// command is the doc's one-line code block that starts with prefix.
func (d clusterDocText) command(t *testing.T, prefix string) string {
	t.Helper()
	return strings.TrimSpace(d.block(t, "`"+prefix+" …`", func(b docBlock) bool {
		return strings.HasPrefix(b.body, prefix+" ") && strings.Count(b.body, "\n") == 1
	}))
}

// inline is the doc's first inline code span `prefix…`.
func (d clusterDocText) inline(t *testing.T, prefix string) string {
	t.Helper()
	m := regexp.MustCompile("`(" + regexp.QuoteMeta(prefix) + "[^`]*)`").FindStringSubmatch(d.text)
	if m == nil {
		t.Fatalf("%s does not show `%s…` in its text", clusterDoc, prefix)
	}
	return m[1]
}

// runDocCluster runs the doc's NATS cluster, collectors and gateway, and
// its cluster commands on them.
func runDocCluster(t *testing.T, doc clusterDocText) {
	urls := startDocNATS(t, doc)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "candlewire.yaml")
	writeDocConfig(t, doc, cfg, pgtest.Fresh(t), urls)
	gateway, collectors := startDocNodes(t, doc, cfg)
	nMarkets := docMarkets(t, cfg)
	status := docArgs(t, doc.command(t, "candlewire cluster status"), cfg)
	st := waitStatus(t, status, "both collectors sharing every market", func(s clusterStatus) bool {
		return s.shared(nMarkets, "collector-1", "collector-2") && strings.HasPrefix(s.relay, "collector-")
	})
	checkSampleStatus(t, doc, st, nMarkets)
	drainDoc(t, doc, cfg, status, nMarkets)
	gateway.stop(t)
	collectors[1].stop(t)
	// A collector stopped by SIGTERM leaves the members at once.
	if st := parseStatus(t, runCLI(t, status...)); st.has("collector-2") {
		t.Errorf("collector-2 is still a member after it stopped:\n%s", st.text)
	}
	collectors[0].stop(t)
}

// startDocNodes runs the doc's `candlewire collect` as collector-1 and
// collector-2, on the simulator, and its `candlewire serve`, with the
// config at cfg, and checks they are healthy.
func startDocNodes(t *testing.T, doc clusterDocText, cfg string) (gateway *proc, collectors []*proc) {
	t.Helper()
	venues := docSim(t, cfg)
	collect := docArgs(t, doc.command(t, "candlewire collect"), cfg)
	i := slices.Index(collect, "--node")
	if i < 0 || i+1 >= len(collect) {
		t.Fatalf("%s: `candlewire collect` has no --node NAME", clusterDoc)
	}
	for _, node := range []string{"collector-1", "collector-2"} {
		args := slices.Clone(collect)
		args[i+1] = node
		collectors = append(collectors, startDoc(t, append(args, venues...)))
	}
	gateway = startDoc(t, docArgs(t, doc.command(t, "candlewire serve"), cfg))
	for _, p := range append([]*proc{gateway}, collectors...) {
		checkHealthy(t, p)
	}
	return gateway, collectors
}

// drainDoc runs the doc's `cluster drain collector-1` and `undrain`.
func drainDoc(t *testing.T, doc clusterDocText, cfg string, status []string, nMarkets int) {
	t.Helper()
	drain := docArgs(t, doc.inline(t, "candlewire cluster drain "), cfg)
	node := drain[2]
	if out := runCLI(t, drain...); !strings.Contains(out, node+" drained") {
		t.Errorf("%v: %s", drain, out)
	}
	waitStatus(t, status, node+" drained, owning nothing", func(s clusterStatus) bool {
		r := s.rows[node]
		return s.has(node) && r.drained && r.owned == 0 && r.standby == 0 && s.owned() == nMarkets
	})
	undrain := docArgs(t, doc.inline(t, "candlewire cluster undrain "), cfg)
	if undrain[2] != node {
		t.Fatalf("the doc drains %s and undrains %s", node, undrain[2])
	}
	if out := runCLI(t, undrain...); !strings.Contains(out, node+" undrained") {
		t.Errorf("%v: %s", undrain, out)
	}
	waitStatus(t, status, node+" undrained, owning markets again", func(s clusterStatus) bool {
		return s.shared(nMarkets, "collector-1", "collector-2")
	})
}

// docArgs are the arguments of the doc's command line (after
// `candlewire`), with the config file at cfg and --listen on loopback.
func docArgs(t *testing.T, line, cfg string) []string {
	t.Helper()
	args := strings.Fields(line)[1:]
	i := slices.Index(args, "--config")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("%s: `%s` has no --config FILE", clusterDoc, line)
	}
	args[i+1] = cfg
	if i := slices.Index(args, "--listen"); i >= 0 && i+1 < len(args) {
		args[i+1] = "127.0.0.1:0"
	}
	return args
}

// startDoc starts a candlewire process of the doc's, ended (if it still
// runs) when the test ends.
func startDoc(t *testing.T, args []string) *proc {
	t.Helper()
	p := start(t, args...)
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.kill(t)
		}
		if t.Failed() {
			t.Logf("log of candlewire %v:\n%s", args[:min(5, len(args))], p.logText())
		}
	})
	return p
}

// checkHealthy: the process answers /healthz with 200.
func checkHealthy(t *testing.T, p *proc) {
	t.Helper()
	var code int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if code = resp.StatusCode; code == http.StatusOK {
			return
		}
	}
	t.Errorf("candlewire %v: /healthz %d after 20 s", p.cmd.Args[1:], code)
}

// docMarkets is how many markets the config at cfg lists.
func docMarkets(t *testing.T, cfg string) int {
	t.Helper()
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return len(c.Markets)
}

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

// clusterStatus is the output of `candlewire cluster status`.
type clusterStatus struct {
	text   string
	header []string
	rows   map[string]statusRow
	relay  string
}

// statusRow is one collector's line of it.
type statusRow struct {
	owned, standby, markets int
	drained                 bool
}

func parseStatus(t *testing.T, out string) clusterStatus {
	t.Helper()
	s := clusterStatus{text: out, rows: map[string]statusRow{}}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	s.header = strings.Fields(lines[0])
	for _, line := range lines[1:] {
		if relay, ok := strings.CutPrefix(line, "relay: "); ok {
			s.relay = relay
			continue
		}
		f := strings.Fields(line)
		if len(f) != len(s.header) || len(f) < 6 {
			continue // drained, not running: …
		}
		var r statusRow
		var errs [4]error
		r.owned, errs[0] = strconv.Atoi(f[1])
		r.standby, errs[1] = strconv.Atoi(f[2])
		r.markets, errs[2] = strconv.Atoi(f[3])
		r.drained, errs[3] = strconv.ParseBool(f[5])
		if err := errors.Join(errs[:]...); err != nil {
			t.Fatalf("cluster status line %q: %v\n%s", line, err, out)
		}
		s.rows[f[0]] = r
	}
	return s
}

func (s clusterStatus) has(node string) bool { _, ok := s.rows[node]; return ok }

// owned is how many markets the collectors own together.
func (s clusterStatus) owned() int {
	n := 0
	for _, r := range s.rows {
		n += r.owned
	}
	return n
}

// shared says whether exactly nodes are collecting, undrained, each
// owning some of the n markets and all of them owned and stood by once.
func (s clusterStatus) shared(n int, nodes ...string) bool {
	standby := 0
	for _, node := range nodes {
		r, ok := s.rows[node]
		if !ok || r.drained || r.owned == 0 || r.markets != n {
			return false
		}
		standby += r.standby
	}
	return len(s.rows) == len(nodes) && s.owned() == n && standby == n
}

// waitStatus runs `candlewire cluster status` (args) until ok holds of
// its output, for 30 s at most.
func waitStatus(t *testing.T, args []string, what string, ok func(clusterStatus) bool) clusterStatus {
	t.Helper()
	start := time.Now()
	for {
		s := parseStatus(t, runCLI(t, args...))
		if ok(s) {
			t.Logf("cluster status: %s after %v:\n%s", what, time.Since(start).Round(time.Millisecond), s.text)
			return s
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("cluster status: not %s after 30 s:\n%s", what, s.text)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkSampleStatus: the status has the doc's sample output's columns,
// collectors and relay line.
func checkSampleStatus(t *testing.T, doc clusterDocText, st clusterStatus, nMarkets int) {
	t.Helper()
	sample := parseStatus(t, doc.block(t, "the sample `cluster status` output", func(b docBlock) bool {
		return strings.HasPrefix(b.body, "COLLECTOR")
	}))
	if !slices.Equal(st.header, sample.header) {
		t.Errorf("cluster status columns %v, the doc's %v", st.header, sample.header)
	}
	if len(sample.rows) == 0 || sample.relay == "" {
		t.Errorf("the doc's sample status has no collector or no relay line:\n%s", sample.text)
	}
	for node, r := range sample.rows {
		if !st.has(node) || r.markets != nMarkets {
			t.Errorf("the doc's sample names %s with %d markets; the cluster's status:\n%s", node, r.markets, st.text)
		}
	}
	if !sample.shared(nMarkets, "collector-1", "collector-2") {
		t.Errorf("the doc's sample does not share the %d markets between its collectors:\n%s", nMarkets, sample.text)
	}
}

// verifyDocUnits runs `systemd-analyze verify` on the doc's collector unit
// and the gateway unit it describes (`serve`, its own --listen), their
// program and config file made real.
func verifyDocUnits(t *testing.T, doc clusterDocText) {
	sa, err := exec.LookPath("systemd-analyze")
	need(t, err == nil, "systemd-analyze is not installed (apt-get install systemd)")
	unit := doc.block(t, "the systemd unit", func(b docBlock) bool { return b.info == "ini" })
	dir := t.TempDir()
	exe, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "candlewire")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "candlewire.yaml")
	yaml := doc.block(t, "the shared YAML configuration", func(b docBlock) bool { return b.info == "yaml" })
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, role, listen string }{
		{"candlewire-collector.service", "collect", ""},
		{"candlewire-gateway.service", "serve", "0.0.0.0:8080"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			text := execStart(t, unit, bin, cfg, tc.role, tc.listen)
			verifyUnit(t, sa, filepath.Join(dir, tc.name), text)
		})
	}
}

// execStart is the unit with ExecStart running bin as the command role,
// with config cfg and, unless empty, --listen at listen.
func execStart(t *testing.T, unit, bin, cfg, role, listen string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ExecStart=(.*)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatalf("the systemd unit in %s has no ExecStart=", clusterDoc)
	}
	args := strings.Fields(m[1])
	i, j := slices.Index(args, "--config"), slices.Index(args, "--listen")
	if len(args) < 2 || args[1] != "collect" || i < 0 || i+1 >= len(args) || j < 0 || j+1 >= len(args) {
		t.Fatalf("the systemd unit in %s runs %q, not `candlewire collect --config FILE --listen ADDR`", clusterDoc, m[1])
	}
	args[0], args[1], args[i+1] = bin, role, cfg
	if listen != "" {
		args[j+1] = listen
	}
	return strings.Replace(unit, m[0], "ExecStart="+strings.Join(args, " "), 1)
}

// verifyUnit writes the unit to path and runs systemd-analyze verify on
// it: no line of its output may name the unit (the host's own units may
// be reported).
func verifyUnit(t *testing.T, sa, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, filepath.Base(path)) {
			t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Logf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
}
