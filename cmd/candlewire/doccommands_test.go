package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docProof is how a command shown in README.md or docs/*.md is proved:
// run by TestDocCommands (run, with its checks), run by another test
// (test: its name), or not runnable on this machine (skip: why, and what
// test covers it instead).
type docProof struct {
	run  func(t *testing.T, e *docEnv, cmd string)
	test string
	skip string
}

// docCommands proves every command the pages show (their text as shown,
// continuations joined and comments dropped). TestDocCommands fails on a
// command missing here, and on one here that no page shows any more.
var docCommands = map[string]docProof{
	// README.md, in its order: TestDocCommands runs these in one
	// directory, as a reader would.
	"./scripts/demo": {run: runDemo},
	"./scripts/test": {skip: "the suite itself: .ci/run runs it on a clean clone"},
	"go run ./cmd/candlewire export --interval 1m --format csv": {run: runExport},
	"go run ./cmd/candlewire watch --sim":                       {run: runWatch("binance:BTCUSDT")},
	"go run ./cmd/candlewire watch binance:BTCUSDT":             {skip: "live Binance: no network here (watch --sim runs the same code on the simulator)"},
	"CGO_ENABLED=0 go install -trimpath ./cmd/candlewire":       {test: "TestGoInstallServesThePage"},
	"./scripts/build": {test: "TestBuildScript"},
	"curl -N 'localhost:8080/v1/sse?streams=binance:BTCUSDT@1m'":                                                                                                           {run: runCurl("event: candle")},
	"curl 'localhost:8080/v1/poll?streams=binance:BTCUSDT@1m&cursor=0&timeout=5s'":                                                                                         {run: runCurl(`"candles":[{`)},
	"curl -H 'Accept: text/csv' 'localhost:8080/v1/candles?market=binance:BTCUSDT&interval=5m&limit=10'":                                                                   {run: runCurl("t,o,h,l,c,v")},
	"go run ./cmd/candlewire watch --sim bitmex:XBTUSD":                                                                                                                    {run: runWatch("bitmex:XBTUSD")},
	"go run ./cmd/candlewire record --sim --sim-speed 60 --markets binance:BTCUSDT,okx:BTC-USDT --duration 10s --dir rec":                                                  {run: runRecord},
	"go run ./cmd/candlewire replay rec/*.zst":                                                                                                                             {run: runReplay},
	"go run ./cmd/candlewire run --markets binance:BTCUSDT --db replayed.db --ws-url binance=ws://127.0.0.1:9200/binance --rest-url binance=http://127.0.0.1:9200/binance": {run: runReplayed},
	"./scripts/postgres start ./pgdata":                                                                                                                                    {run: runPostgresStart},
	"go run ./cmd/candlewire run --sim --sim-speed 60 --db 'postgres://postgres@127.0.0.1:15432/postgres?sslmode=disable'":                                                 {run: runOnPostgres},
	"go run ./cmd/candlewire migrate --from ./candlewire.db --to 'postgres://postgres@127.0.0.1:15432/postgres?sslmode=disable'":                                           {run: runMigrate},
	"./scripts/postgres stop ./pgdata":                                                                                                                                     {run: runPostgresStop},
	"candlewire markets binance --sim --quote USDT --list > markets.txt":                                                                                                   {run: runMarketsList},
	"candlewire run --sim --markets-file markets.txt":                                                                                                                      {run: runMarketsFile},

	// docs/cli.md
	"$ candlewire run --market x": {run: runMistake},
	"CANDLEWIRE_MARKETS=binance:BTCUSDT,binance:ETHUSDT CANDLEWIRE_LOG_FORMAT=json candlewire run --sim": {run: runEnvConfig},

	// docs/cluster.md
	"candlewire collect --config /etc/candlewire/candlewire.yaml --node collector-1 --listen 0.0.0.0:8081": {test: "TestClusterDocsCommands"},
	"candlewire serve --config /etc/candlewire/candlewire.yaml --node gateway-1 --listen 0.0.0.0:8080":     {test: "TestClusterDocsCommands"},
	"candlewire cluster status --config /etc/candlewire/candlewire.yaml":                                   {test: "TestClusterDocsCommands"},

	// docs/operations.md
	"sudo install -m 0755 dist/candlewire /usr/local/bin/candlewire": {skip: "installs into /usr/local/bin (TestSystemdUnitVerifies checks the unit with the release binary there)"},
	"candlewire version": {run: runVersion},
	"sudo install -D -m 0644 deploy/config.yaml /etc/candlewire/config.yaml": {skip: "writes /etc (TestSystemdUnitCommandRuns runs the unit's command on deploy/config.yaml)"},
	"sudo install -m 0644 deploy/candlewire.service /etc/systemd/system/":    {skip: "writes /etc (TestSystemdUnitVerifies checks the unit)"},
	"sudo systemctl daemon-reload":                                           {skip: "needs a running systemd (TestSystemdUnitVerifies checks the unit with systemd-analyze)"},
	"sudo systemctl enable --now candlewire":                                 {skip: "needs a running systemd (TestSystemdUnitCommandRuns runs the unit's command)"},
	"systemctl status candlewire":                                            {skip: "needs a running systemd"},
	"curl -s localhost:8080/healthz":                                         {run: runCurl(`"status":"`)},
	"journalctl -u candlewire -o cat | jq -c 'select(.level != \"INFO\")'":   {skip: "reads systemd's journal (TestSystemdUnitCommandRuns checks the JSON lines it filters)"},
	"promtool check rules candlewire-alerts.yml":                             {test: "TestAlertRulesCheck"},
	"promtool test rules candlewire-alerts.test.yml":                         {test: "TestAlertRulesCheck"},

	// docs/benchmarks.md: the benchmarks that make its figures.
	"go test -run XXX -bench BenchmarkFrames -benchtime 1s -count 3 ./internal/exchange/...":                               {run: runBenchmark},
	"go test -exec 'taskset -c 1' -run XXX -bench BenchmarkFrames -benchtime 0.2s -count 6 -cpu 1 ./internal/exchange/...": {run: runBenchmark},
	"scripts/postgres start /tmp/pg 55433": {skip: "the page's own PostgreSQL for its benchmarks (scripts/test starts one the same way)"},
	"CANDLEWIRE_TEST_POSTGRES='postgres://postgres@127.0.0.1:55433/postgres?sslmode=disable' go test -run XXX -bench BenchmarkUpsert -benchtime 5s -count 2 ./internal/postgres":      {run: runBenchmark},
	"CANDLEWIRE_TEST_POSTGRES='postgres://postgres@127.0.0.1:55433/postgres?sslmode=disable' go test -run XXX -bench BenchmarkSince -benchtime 200x -timeout 30m ./internal/postgres": {skip: "its setup writes ten million rows: 7 minutes even at -benchtime 1x (docs/benchmarks.md has its output)"},
	"candlewire bench collect --markets 300 --speed 1 --db 'postgres://postgres@127.0.0.1:55433/bench_collect?sslmode=disable'":                                                       {test: "TestBenchCollect"},
	"candlewire bench collect --markets 300 --speed 1":                       {test: "TestBenchCollect"},
	"candlewire bench collect --markets 300 --speed 1 --forming-every 0":     {test: "TestBenchCollect"},
	"candlewire bench fanout --duration 20s":                                 {test: "TestBenchFanoutSweep"},
	"candlewire bench fanout --duration 20s --server-cpus 0 --client-cpus 1": {test: "TestBenchFanoutSweep"},
}

// docPages are the pages whose commands are proved.
func docPages(t *testing.T) []string {
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, pages...)
}

// shownCommands returns the commands of a page's ```sh blocks (a line
// ending in \ joined with the next, comments dropped) and the $ lines of
// its other blocks, in order.
func shownCommands(t *testing.T, page string) []string {
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	info, inBlock, cont := "", false, ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "```") {
			info, inBlock = strings.TrimPrefix(line, "```"), !inBlock
			continue
		}
		switch {
		case !inBlock:
		case info == "sh":
			line = cont + strings.TrimSpace(comment.ReplaceAllString(line, ""))
			if cont = ""; strings.HasSuffix(line, `\`) {
				cont = strings.TrimSuffix(line, `\`)
				continue
			}
			if line != "" {
				out = append(out, line)
			}
		case strings.HasPrefix(line, "$ "):
			out = append(out, line)
		}
	}
	return out
}

// comment is a shell comment after a command (or a whole line of one).
var comment = regexp.MustCompile(`(^|\s+)#(\s.*)?$`)

// TestDocCommands: every command README.md and docs/*.md show is proved
// (docCommands): the ones this machine can run are run here, as shown, with
// their output checked; the others name the test that covers them, which
// must exist, or why they cannot run here.
func TestDocCommands(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the pages' commands: about two minutes")
	}
	shown := map[string]string{} // command: page
	var order []string
	for _, page := range docPages(t) {
		for _, c := range shownCommands(t, page) {
			if _, dup := shown[c]; !dup {
				order = append(order, c)
			}
			shown[c] = filepath.Base(page)
		}
	}
	for _, c := range order {
		if _, ok := docCommands[c]; !ok {
			t.Errorf("%s shows `%s`, which no test runs: add it to docCommands", shown[c], c)
		}
	}
	tests := testNames(t)
	for c, p := range docCommands {
		if _, ok := shown[c]; !ok {
			t.Errorf("docCommands has `%s`, which no page shows any more", c)
		}
		if p.test != "" && !slices.Contains(tests, p.test) {
			t.Errorf("`%s` is said to be run by %s, which does not exist", c, p.test)
		}
	}
	if t.Failed() {
		return
	}
	// Each chain runs its commands in the pages' order, in a directory of
	// its own (two would share ./candlewire.db), beside the others.
	chains := map[string][]string{}
	for _, c := range order {
		if docCommands[c].run != nil {
			chains[docChain(c)] = append(chains[docChain(c)], c)
		}
	}
	for name, cmds := range chains {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newDocEnv(t)
			for _, c := range cmds {
				t.Run(shown[c]+": "+c, func(t *testing.T) { docCommands[c].run(t, e, c) })
			}
		})
	}
}

// docChain names the commands that must run one after another: record,
// replay and the run on it; the README's PostgreSQL; a markets file and
// the run on it; the rest.
func docChain(cmd string) string {
	for _, c := range []struct{ chain, has string }{
		{"replay", "record "}, {"replay", "replay "}, {"replay", "replayed.db"},
		{"postgres", "15432"}, {"postgres", "pgdata"},
		{"markets", "markets.txt"},
		{"benchmarks", "go test "},
	} {
		if strings.Contains(cmd, c.has) {
			return c.chain
		}
	}
	return "pages"
}

// testNames lists the Test functions of the module's test files.
func testNames(t *testing.T) []string {
	var out []string
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git"):
			return filepath.SkipDir
		case !strings.HasSuffix(path, "_test.go"):
			return nil
		}
		b, err := os.ReadFile(path)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
