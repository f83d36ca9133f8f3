package main

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
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
