package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The checks of the pages' commands that TestDocCommands runs, each
// given the command as shown.

// finals counts the "candle final" lines of a log.
func finals(out string) int { return strings.Count(out, `msg="candle final"`) }

// runDemo runs ./scripts/demo from the repository (its go run), with its
// store and address moved to the test's: every one of its five markets
// gets final candles, and Ctrl-C says everything is stored.
func runDemo(t *testing.T, e *docEnv, cmd string) {
	p := e.start(t, e.root, cmd+" --listen 127.0.0.1:0 --db "+filepath.Join(e.dir, "demo.db"))
	p.wait(t, "the demo runs", 5*time.Minute, func(out string) bool { return strings.Contains(out, `msg="candlewire running"`) })
	markets := []string{"binance:BTCUSDT", "binance:ETHUSDT", "binance:SOLUSDT", "okx:BTC-USDT", "coinbase:BTC-USD"}
	p.wait(t, "a final candle of each of the demo's markets", time.Minute, func(out string) bool {
		for _, m := range markets {
			if !strings.Contains(out, `msg="candle final" market=`+m+" ") {
				return false
			}
		}
		return true
	})
	if out := p.interrupt(t); !strings.Contains(out, "everything collected is stored") {
		t.Errorf("Ctrl-C: %s", tail(out))
	}
}

// collect fills ./candlewire.db of the reader's directory as the demo
// does (what the README's export and migrate read).
func (e *docEnv) collect(t *testing.T) {
	if _, err := os.Stat(filepath.Join(e.dir, "candlewire.db")); err == nil {
		return
	}
	p := e.start(t, e.dir, "candlewire run --sim --sim-speed 60")
	p.wait(t, "three final candles", time.Minute, func(out string) bool { return finals(out) >= 3 })
	p.interrupt(t)
}

func runExport(t *testing.T, e *docEnv, cmd string) {
	e.collect(t)
	out, code := e.run(t, cmd)
	if code != 0 || !strings.HasPrefix(out, "venue,symbol,interval,t,o,h,l,c,v,q,n,final,rev\n") || strings.Count(out, "\nbinance,BTCUSDT,1m,") < 3 {
		t.Fatalf("exit %d:\n%s", code, tail(out))
	}
}

// runWatch: watch prints the market's candle changes, a final one within
// a minute.
func runWatch(market string) func(t *testing.T, e *docEnv, cmd string) {
	final := regexp.MustCompile(`(?m)^\S+ ` + regexp.QuoteMeta(market) + ` 1m +o=\S+ h=\S+ l=\S+ c=\S+ v=\S+ n=\d+ reconciled rev=`)
	return func(t *testing.T, e *docEnv, cmd string) {
		p := e.start(t, e.dir, cmd)
		p.wait(t, "a final candle of "+market, time.Minute, final.MatchString)
		p.interrupt(t)
	}
}

// runCurl runs a curl of the pages against a `run --sim` (for
// localhost:8080) until its output shows want.
func runCurl(want string) func(t *testing.T, e *docEnv, cmd string) {
	return func(t *testing.T, e *docEnv, cmd string) {
		e.once.Do(func() {
			e.server = start(t, "run", "--sim", "--sim-speed", "60", "--db", filepath.Join(e.dir, "server.db"), "--listen", "127.0.0.1:0")
			for deadline := time.Now().Add(time.Minute); finals(e.server.logText()) < 6; time.Sleep(100 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no final candles:\n%s", tail(e.server.logText()))
				}
			}
		})
		if e.server == nil {
			t.Fatal("the server did not start")
		}
		p := e.start(t, e.dir, strings.ReplaceAll(cmd, "localhost:8080", e.server.addr))
		p.wait(t, "curl shows "+want, 30*time.Second, func(out string) bool { return strings.Contains(out, want) })
		p.interrupt(t)
	}
}

func runRecord(t *testing.T, e *docEnv, cmd string) {
	out, code := e.run(t, cmd)
	for _, venue := range []string{"binance", "okx"} {
		if files, _ := filepath.Glob(filepath.Join(e.dir, "rec", venue+".ws.*.zst")); code != 0 || len(files) == 0 {
			t.Fatalf("exit %d, no %s recording:\n%s", code, venue, tail(out))
		}
	}
}

func runReplay(t *testing.T, e *docEnv, cmd string) {
	need(t, portFree("127.0.0.1:9200"), "something listens on 127.0.0.1:9200, the replay's address")
	e.replay = e.start(t, e.dir, cmd)
	e.replay.wait(t, "the replay serves the recording", 30*time.Second, func(out string) bool {
		return strings.Contains(out, "ws://127.0.0.1:9200/binance/stream")
	})
}

// runReplayed: run stores the recorded minutes as finals, asks nothing of
// the real venue, and keeps trying after the recording ends.
func runReplayed(t *testing.T, e *docEnv, cmd string) {
	if e.replay == nil {
		t.Skip("the replay did not start")
	}
	p := e.start(t, e.dir, cmd)
	p.wait(t, "the recording's minutes stored, to its end", time.Minute, func(out string) bool {
		return finals(out) >= 7 && strings.Contains(out, "end of recording")
	})
	out := p.interrupt(t)
	if strings.Contains(out, "binance.com") || !strings.Contains(out, "everything collected is stored") {
		t.Errorf("run on the replay:\n%s", tail(out))
	}
	e.replay.interrupt(t)
	e.replay = nil
}

const readmePostgres = "postgres://postgres@127.0.0.1:15432/postgres?sslmode=disable"

func runPostgresStart(t *testing.T, e *docEnv, cmd string) {
	_, err := os.Stat("/usr/lib/postgresql/15/bin/initdb")
	need(t, err == nil, "PostgreSQL 15 is not installed (scripts/test installs it)")
	need(t, portFree("127.0.0.1:15432"), "something listens on 127.0.0.1:15432, the README's PostgreSQL address")
	out, code := e.run(t, cmd)
	e.pg = code == 0
	if code != 0 || strings.TrimSpace(out) != readmePostgres {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func runOnPostgres(t *testing.T, e *docEnv, cmd string) {
	if !e.pg {
		t.Skip("the README's PostgreSQL did not start")
	}
	p := e.start(t, e.dir, cmd)
	p.wait(t, "final candles stored in PostgreSQL", time.Minute, func(out string) bool { return finals(out) >= 2 })
	if out := p.interrupt(t); !strings.Contains(out, "everything collected is stored") {
		t.Errorf("Ctrl-C: %s", tail(out))
	}
}

func runMigrate(t *testing.T, e *docEnv, cmd string) {
	if !e.pg {
		t.Skip("the README's PostgreSQL did not start")
	}
	e.collect(t)
	if out, code := e.run(t, cmd); code != 0 || !strings.HasPrefix(out, "copied ") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func runPostgresStop(t *testing.T, e *docEnv, cmd string) {
	if !e.pg {
		t.Skip("the README's PostgreSQL did not start")
	}
	if out, code := e.run(t, cmd); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	e.pg = false
}

func runMarketsList(t *testing.T, e *docEnv, cmd string) {
	out, code := e.run(t, cmd)
	b, err := os.ReadFile(filepath.Join(e.dir, "markets.txt"))
	if code != 0 || err != nil || len(marketLines(string(b))) < 5 {
		t.Fatalf("exit %d (%v): %s\nmarkets.txt:\n%s", code, err, out, tail(string(b)))
	}
	for _, m := range marketLines(string(b)) {
		if !strings.HasPrefix(m, "binance:") || !strings.HasSuffix(m, "USDT") {
			t.Fatalf("markets.txt lists %q", m)
		}
	}
}

// marketLines are the markets of a markets file.
func marketLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// runMarketsFile: run collects every market of the file.
func runMarketsFile(t *testing.T, e *docEnv, cmd string) {
	b, err := os.ReadFile(filepath.Join(e.dir, "markets.txt"))
	if err != nil {
		t.Skip("no markets.txt: the command before did not run")
	}
	want := len(marketLines(string(b)))
	p := e.start(t, e.dir, cmd)
	running := regexp.MustCompile(`msg="candlewire running" role=single markets="\[([^\]]*)\]"`)
	p.wait(t, "run collecting the file's markets", time.Minute, func(out string) bool {
		return running.MatchString(out) && strings.Contains(out, "msg=connected")
	})
	out := p.interrupt(t)
	if got := len(strings.Fields(running.FindStringSubmatch(out)[1])); got != want {
		t.Errorf("run collects %d markets, the file lists %d", got, want)
	}
}

// runMistake: the mistake gets the lines docs/cli.md shows after it, and
// exit status 2.
func runMistake(t *testing.T, e *docEnv, cmd string) {
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(b), cmd+"\n")
	want, _, _ := strings.Cut(after, "```")
	if out, code := e.run(t, cmd); code != 2 || out != want {
		t.Fatalf("exit %d:\n%s\nwant exit 2:\n%s", code, out, want)
	}
}

// runEnvConfig: markets and the log format from the environment: JSON
// lines, two markets.
func runEnvConfig(t *testing.T, e *docEnv, cmd string) {
	p := e.start(t, e.dir, cmd)
	p.wait(t, "run from the environment", time.Minute, func(out string) bool { return strings.Contains(out, `"msg":"candlewire running"`) })
	out := p.interrupt(t)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec struct {
			Msg     string   `json:"msg"`
			Markets []string `json:"markets"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %s", line)
		}
		if rec.Msg == "candlewire running" && strings.Join(rec.Markets, ",") != "binance:BTCUSDT,binance:ETHUSDT" {
			t.Errorf("markets %v, want the environment's", rec.Markets)
		}
	}
}

func runVersion(t *testing.T, e *docEnv, cmd string) {
	if out, code := e.run(t, cmd); code != 0 || !regexp.MustCompile(`^candlewire \S+ .*go1\.\d+`).MatchString(out) {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// runBenchmark runs a benchmark of docs/benchmarks.md once (-benchtime 1x,
// -count 1), on the suite's PostgreSQL for those that need one.
func runBenchmark(t *testing.T, e *docEnv, cmd string) {
	if strings.Contains(cmd, "CANDLEWIRE_TEST_POSTGRES=") {
		dsn := os.Getenv("CANDLEWIRE_TEST_POSTGRES")
		need(t, dsn != "", "CANDLEWIRE_TEST_POSTGRES is not set (scripts/test starts a PostgreSQL)")
		cmd = regexp.MustCompile(`CANDLEWIRE_TEST_POSTGRES='[^']*'`).ReplaceAllString(cmd, "CANDLEWIRE_TEST_POSTGRES='"+dsn+"'")
	}
	cmd = regexp.MustCompile(`-benchtime \S+`).ReplaceAllString(cmd, "-benchtime 1x")
	cmd = regexp.MustCompile(`-count \d+`).ReplaceAllString(cmd, "-count 1")
	p := e.start(t, e.root, cmd)
	select {
	case <-p.done:
	case <-time.After(5 * time.Minute):
		p.interrupt(t)
		t.Fatalf("`%s` did not end in 5 minutes", cmd)
	}
	if out := p.output(); p.cmd.ProcessState.ExitCode() != 0 || !strings.Contains(out, "ns/op") {
		t.Fatalf("`%s`:\n%s", cmd, tail(out))
	}
}
