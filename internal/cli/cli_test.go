package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func run(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodesAndErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		env  string // NAME=VALUE set for the case
		code int
		want string
	}{
		{args: []string{"help"}, code: 0, want: "candlewire run"},
		{args: []string{"frobnicate"}, code: 2, want: `unknown command "frobnicate"`},
		{args: []string{"run", "--bogus"}, code: 2, want: "unknown flag --bogus\nRun 'candlewire run -h' for its flags."},
		{args: []string{"run", "--market", "x"}, code: 2, want: "candlewire run: unknown flag --market (did you mean --markets?)\n"},
		{args: []string{"run", "-h"}, code: 0, want: "-markets string"},
		{args: []string{"version"}, code: 0, want: "candlewire "},
		{args: []string{"sim", "--log-format", "yaml"}, code: 2, want: `--log-format "yaml": want text or json`},
		{args: []string{"run", "--log", "loud", "--db", filepath.Join(dir, "g.db")}, code: 2, want: `--log "loud": want debug, info, warn or error`},
		{args: []string{"run", "--config", writeFile(t, dir, "fmt.yaml", "log_format: xml"), "--db", filepath.Join(dir, "h.db")}, code: 2, want: `log_format: "xml" is neither text nor json`},
		{args: []string{"backfill", "--from", "1h", "--log", "loud"}, code: 2, want: `--log "loud"`},
		{args: []string{"run", "--sim", "--db", filepath.Join(dir, "i.db"), "--listen", "127.0.0.1:0"}, env: "CANDLEWIRE_LISTN=:8080", code: 2,
			want: "CANDLEWIRE_LISTN: no such setting (did you mean CANDLEWIRE_LISTEN?)"},
		{args: []string{"markets", "okx", "--sim"}, env: "CANDLEWIRE_VENUES_OKX_REST_URL=ftp://x", code: 2, want: "venues.okx.rest_url"},
		{args: []string{"version", "--short"}, code: 2, want: "unknown flag --short"},
		{args: []string{"export", "--help"}, code: 0, want: "Usage of candlewire export:"},
		{args: []string{"export", "binance:BTCUSDT"}, code: 2, want: `unexpected argument "binance:BTCUSDT" (candlewire export takes flags only)`},
		{args: []string{"export", "--from"}, code: 2, want: "flag needs an argument: --from"},
		{args: []string{"sim", "--speed", "fast"}, code: 2, want: `invalid value "fast" for flag --speed`},
		{args: []string{"bench", "collect", "--forming-every", "-1s"}, code: 2, want: "--forming-every not negative"},
		{args: []string{"run", "--config", writeFile(t, dir, "forming.yaml", "forming_every: -1s")}, code: 2, want: "forming_every: -1s is negative"},
		{args: []string{"watch", "--json=maybe"}, code: 2, want: `invalid boolean value "maybe" for --json`},
		{args: []string{"replay", "--listen", "127.0.0.1:0", "--speed", "-1", "x.zst"}, code: 2, want: "replay needs recording files"},
		{args: []string{"run", "--markets", "BTCUSDT"}, code: 2, want: "venue:SYMBOL"},
		{args: []string{"run", "--markets", "nosuchvenue:XBTUSD", "--db", filepath.Join(dir, "a.db")}, code: 2, want: `unknown venue "nosuchvenue"`},
		{args: []string{"run", "--markets", "bitmex:XBTUSD", "--db", filepath.Join(dir, "b.db")}, code: 1, want: "BitMEX closed on 2026-09-23"},
		{args: []string{"export", "--format", "xml", "--db", filepath.Join(dir, "c.db")}, code: 2, want: "csv or jsonl"},
		{args: []string{"export", "--interval", "7m"}, code: 2, want: "unknown interval"},
		{args: []string{"export", "--db", filepath.Join(dir, "missing.db")}, code: 1, want: filepath.Join(dir, "missing.db") + ": no such file or directory"},
		{args: []string{"backfill", "--market", "binance:BTCUSDT"}, code: 2, want: "--from is required"},
		{args: []string{"run", "--config", filepath.Join(dir, "none.yaml")}, code: 2, want: "read config"},
		{args: []string{"run", "--config", writeFile(t, dir, "bad.yaml", "venues: {binance: {ws_url: ftp://x}}")}, code: 2, want: "venues.binance.ws_url"},
		{args: []string{"run", "--config", writeFile(t, dir, "unk.yaml", "venues: {nasdaq: {ws_url: ws://x}}")}, code: 2, want: `unknown venue "nasdaq"`},
		{args: []string{"run", "--config", writeFile(t, dir, "typo.yaml", "marketz: [binance:BTCUSDT]")}, code: 2, want: "field marketz not found"},
		{args: []string{"run", "--config", writeFile(t, dir, "conns.yaml", "serve: {max_conns_per_ip: -5}"), "--sim", "--db", filepath.Join(dir, "f.db"),
			"--listen", "127.0.0.1:0"}, code: 2, want: "serve.max_conns_per_ip: -5 is negative"},
		{args: []string{"run", "--config", writeFile(t, dir, "tls.yaml", "serve: {tls_cert: "+filepath.Join(dir, "none.pem")+", tls_key: k.pem}"),
			"--db", filepath.Join(dir, "e.db"), "--listen", "127.0.0.1:0", "--sim"}, code: 2, want: "serve.tls_cert: open " + filepath.Join(dir, "none.pem")},
		{args: []string{"run", "--ws-url", "binance"}, code: 2, want: "want VENUE=URL"},
		{args: []string{"run", "--ws-url", "nasdaq=ws://x"}, code: 2, want: `unknown venue "nasdaq"`},
		{args: []string{"run", "--ws-url", "binance=http://x"}, code: 2, want: "want ws:// or wss://HOST"},
		{args: []string{"backfill", "--from", "1h", "--rest-url", "bitmex=ws://x"}, code: 2, want: "want http:// or https://HOST"},
		{args: []string{"watch", "--rest-url", "bitmex=:://"}, code: 2, want: "bad URL"},
		{args: []string{"sim", "--fault", "drop"}, code: 2, want: "venue:kind@at"},
		{args: []string{"run", "--sim", "--markets", "binance:BTCUSD", "--db", filepath.Join(dir, "d.db")}, code: 2,
			want: "not listed by its venue: binance:BTCUSD (listed: BTCUSDT"},
		{args: []string{"markets"}, code: 2, want: "markets needs one venue"},
		{args: []string{"run", "--markets", "binance:BTCUSDT", "--markets-file", "m.txt"}, code: 2, want: "--markets and --markets-file: name the markets in one place"},
		{args: []string{"run", "--markets-file", filepath.Join(dir, "none.txt")}, code: 2, want: "markets file: open " + filepath.Join(dir, "none.txt")},
		{args: []string{"run", "--markets-file", writeFile(t, dir, "dup.txt", "binance:BTCUSDT\nbinance:BTCUSDT\n")}, code: 2,
			want: "line 2: binance:BTCUSDT is named twice (first on line 1)"},
		{args: []string{"run", "--config", writeFile(t, dir, "both.yaml", "markets: [binance:BTCUSDT]\nmarkets_file: m.txt")}, code: 2,
			want: "markets and markets_file: name the markets in one place"},
		{args: []string{"markets", "nasdaq"}, code: 2, want: `unknown venue "nasdaq"`},
	}
	for _, c := range cases {
		// A mistake that is not refused runs until the timeout, then fails the case.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if name, value, ok := strings.Cut(c.env, "="); ok {
			os.Setenv(name, value)
		}
		code, out, errs := run(t, ctx, c.args...)
		if name, _, ok := strings.Cut(c.env, "="); ok {
			os.Unsetenv(name)
		}
		cancel()
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d containing %q", c.args, code, out+errs, c.code, c.want)
		}
	}
}

// TestFlagsAnywhere: flags stand before, between or after the arguments,
// and "--" ends them.
func TestFlagsAnywhere(t *testing.T) {
	for _, c := range []struct {
		args []string
		rest string
		sim  bool
		json string
	}{
		{args: nil},
		{args: []string{"binance", "--sim"}, rest: "binance", sim: true},
		{args: []string{"--sim", "bitmex:XBTUSD", "--json", "x", "okx:BTC-USDT"}, rest: "bitmex:XBTUSD okx:BTC-USDT", sim: true, json: "x"},
		{args: []string{"a", "--json=y", "b", "--", "--sim", "-h"}, rest: "a b --sim -h", json: "y"},
		{args: []string{"-", "--sim=false"}, rest: "-"},
	} {
		fs := newFlags("t", io.Discard)
		sim := fs.Bool("sim", false, "")
		js := fs.String("json", "", "")
		rest, err := parseArgs(fs, c.args)
		if err != nil || strings.Join(rest, " ") != c.rest || *sim != c.sim || *js != c.json {
			t.Errorf("%q: arguments %q, --sim %v, --json %q, %v; want %q, %v, %q", c.args, rest, *sim, *js, err, c.rest, c.sim, c.json)
		}
	}
}

// TestJSONLogs: --log-format json writes one JSON object per line, and
// the config's log_format and $CANDLEWIRE_LOG_FORMAT do the same when no
// flag is given.
func TestJSONLogs(t *testing.T) {
	dir := t.TempDir()
	for i, args := range [][]string{
		{"watch", "--sim", "--log", "info", "--log-format", "json"},
		{"watch", "--sim", "--config", writeFile(t, dir, "json.yaml", "log: info\nlog_format: json")},
		{"watch", "--sim", "--log", "info"}, // CANDLEWIRE_LOG_FORMAT=json, below
	} {
		if i == 2 {
			t.Setenv("CANDLEWIRE_LOG_FORMAT", "json")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		code, _, errs := run(t, ctx, args...)
		cancel()
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 0 || len(lines) == 0 || lines[0] == "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		for _, line := range lines {
			var rec struct{ Time, Level, Msg string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level == "" || rec.Msg == "" {
				t.Errorf("%v: log line %q is not a JSON record (%v)", args, line, err)
			}
		}
	}
}

func TestVersionLine(t *testing.T) {
	set := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	arch := " go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH
	for _, c := range []struct {
		info debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.0"}}, "candlewire v0.4.0" + arch},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: set("vcs.revision", "5108bc3aa", "vcs.time", "2026-11-29T13:00:00Z", "vcs.modified", "false")},
			"candlewire (devel) commit 5108bc3aa (2026-11-29T13:00:00Z)" + arch},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: set("vcs.revision", "5108bc3aa", "vcs.time", "2026-11-29T13:00:00Z", "vcs.modified", "true")},
			"candlewire (devel) commit 5108bc3aa (2026-11-29T13:00:00Z, modified)" + arch},
	} {
		if got := versionLine(&c.info); got != c.want {
			t.Errorf("versionLine = %q, want %q", got, c.want)
		}
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOfflineLogsOneClearLine points the collector at a host that cannot
// resolve: it must keep retrying and say why once, not once per retry.
func TestOfflineLogsOneClearLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("venues:\n  binance: {ws_url: \"ws://candlewire-offline.invalid\", rest_url: \"http://candlewire-offline.invalid\"}\n"), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	code, _, errs := run(t, ctx, "run", "--config", cfg, "--db", filepath.Join(dir, "c.db"), "--listen", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(errs, "cannot connect"); n != 1 {
		t.Fatalf("%d 'cannot connect' lines, want exactly 1:\n%s", n, errs)
	}
	if !strings.Contains(errs, "no network or DNS") {
		t.Fatalf("the line does not say why:\n%s", errs)
	}
}

func TestWatchJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	code, out, errs := run(t, ctx, "watch", "--sim", "--sim-speed", "60", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	final := 0
	for _, l := range lines {
		var c struct {
			Venue, Symbol, Interval, O, H, L, C, V, Q string
			T, N, Rev                                 int64
			Final                                     bool
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil || c.Venue != "binance" || c.Interval != "1m" || c.Rev < 1 || c.O == "" {
			t.Fatalf("bad line %q: %v", l, err)
		}
		if c.Final {
			final++
		}
	}
	if len(lines) < 10 || final == 0 {
		t.Fatalf("%d lines, %d final; want a live stream with closed minutes", len(lines), final)
	}
}

// dbs are the stores a command test runs over: a SQLite file, and a
// fresh PostgreSQL database (skipped without a test server).
var dbs = []struct {
	name string
	open func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "c.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.Fresh(t) }},
}

// TestExportIncludesFutureSimulatedMinutes runs the service against a
// time-compressed simulator: its minutes lie ahead of the wall clock, and a
// plain export must still return them all.
func TestExportIncludesFutureSimulatedMinutes(t *testing.T) {
	for _, tc := range dbs {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			defer cancel()
			code, _, errs := run(t, ctx, "run", "--sim", "--sim-speed", "120", "--db", db, "--listen", "127.0.0.1:0")
			if code != 0 {
				t.Fatalf("run: %s", errs)
			}
			// The service shows candles arriving: one log line per final minute.
			if n := strings.Count(errs, `msg="candle final" market=binance:BTCUSDT`); n < 5 {
				t.Errorf("run logged %d final candles in a 4 s run at 120×, want at least 5:\n%s", n, errs)
			}
			code, out, errs := run(t, context.Background(), "export", "--db", db)
			if rows := strings.Count(out, "\n") - 1; code != 0 || rows < 5 {
				t.Fatalf("export after a 4 s run at 120×: %d rows, %s", rows, errs)
			}
		})
	}
}

// TestBackfillThenExport: backfill stores two hours of minutes and their
// rollups, and export reads them back. The PostgreSQL case names its
// store in CANDLEWIRE_DB instead of --db.
func TestBackfillThenExport(t *testing.T) {
	for _, tc := range dbs {
		t.Run(tc.name, func(t *testing.T) {
			var dbFlag []string
			if db := tc.open(t); tc.name == "postgres" {
				t.Setenv(dbEnv, db)
			} else {
				dbFlag = []string{"--db", db}
			}
			ctx := context.Background()
			code, out, errs := run(t, ctx, append([]string{"backfill", "--sim", "--market", "bitmex:XBTUSD", "--from", "3h", "--to", "1h"}, dbFlag...)...)
			if code != 0 || !strings.Contains(out, "120 minutes") {
				t.Fatalf("backfill exit %d: %s %s", code, out, errs)
			}
			code, out, errs = run(t, ctx, append([]string{"export", "--market", "bitmex:XBTUSD", "--interval", "1m", "--format", "csv"}, dbFlag...)...)
			rows := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(rows) != 121 || rows[0] != "venue,symbol,interval,t,o,h,l,c,v,q,n,final,rev" {
				t.Fatalf("export exit %d, %d rows: %s %s", code, len(rows), rows[0], errs)
			}
			code, out, _ = run(t, ctx, append([]string{"export", "--market", "bitmex:XBTUSD", "--interval", "1h", "--format", "jsonl"}, dbFlag...)...)
			hours := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(hours) < 2 || len(hours) > 3 || !strings.Contains(hours[0], `"interval":"1h"`) {
				t.Fatalf("hourly export: %q", out)
			}
		})
	}
}

func TestSimPrintsURLs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"sim", "--listen", "127.0.0.1:0", "--speed", "10", "--log", "error"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var out []string
	for len(out) < 30 && sc.Scan() {
		out = append(out, sc.Text())
		if strings.Contains(sc.Text(), "/admin/fault") {
			break // the last line
		}
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	text := strings.Join(out, "\n")
	for _, want := range []string{"binance  websocket ws://127.0.0.1:", "bitmex   websocket ws://127.0.0.1:", "/bitmex/realtime?subscribe=tradeBin1m:XBTUSD", "/admin/trades?venue=binance&symbol=BTCUSDT",
		"okx      websocket ws://127.0.0.1:", "/okx/ws/v5/business (candle1m BTC-USDT)", "/admin/fault"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// TestURLOverridesMergeWithConfig: --ws-url and --rest-url replace the
// config file's URL for that venue only, and keep its other settings.
func TestURLOverridesMergeWithConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", `venues:
  bitmex: {ws_url: "ws://a/realtime", rest_url: "http://a", connect_budget: 7, silence_timeout: 3s}
  binance: {rest_url: "http://b"}
`)
	o, _, err := parseRun([]string{"--config", cfg, "--ws-url", "bitmex=wss://c/realtime", "--rest-url", "binance=https://d"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	bm, bn := o.Endpoints["bitmex"], o.Endpoints["binance"]
	if bm.WSURL != "wss://c/realtime" || bm.RESTURL != "http://a" || bm.ConnectBudget != 7 || bm.SilenceTimeout != 3*time.Second {
		t.Errorf("bitmex = %+v", bm)
	}
	if bn.RESTURL != "https://d" || bn.WSURL != "" {
		t.Errorf("binance = %+v", bn)
	}
}

// TestRunTakesFormingEvery: the config's forming_every reaches the node,
// and none keeps the collector's default.
func TestRunTakesFormingEvery(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]time.Duration{"log: info\n": 0, "forming_every: 250ms\n": 250 * time.Millisecond} {
		o, _, err := parseRun([]string{"--config", writeFile(t, dir, "c.yaml", in)}, io.Discard)
		if err != nil || o.FormingEvery != want {
			t.Errorf("%q: FormingEvery %v, %v; want %v", in, o.FormingEvery, err, want)
		}
	}
}

// TestWatchStoresIntoDB: watch --db stores what it prints, into a SQLite
// file or a PostgreSQL database, and export reads it back.
func TestWatchStoresIntoDB(t *testing.T) {
	for _, tc := range dbs {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if code, _, errs := run(t, ctx, "watch", "--sim", "--sim-speed", "60", "--db", db); code != 0 {
				t.Fatalf("watch: exit %d: %s", code, errs)
			}
			code, out, errs := run(t, context.Background(), "export", "--market", "binance:BTCUSDT", "--interval", "1m",
				"--format", "jsonl", "--db", db)
			if code != 0 || strings.Count(out, "\n") < 2 {
				t.Fatalf("export after watch: exit %d, %d rows: %s", code, strings.Count(out, "\n"), errs)
			}
		})
	}
}

// TestMarketsFile: `markets VENUE --quote Q --list` writes a markets file
// that `run --markets-file` (and the config's markets_file) collects,
// checked against the venue's list.
func TestMarketsFile(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, context.Background(), "markets", "binance", "--sim", "--quote", "usdt", "--list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 4 || !strings.HasPrefix(lines[0], "# binance markets trading now quoted in USDT") {
		t.Fatalf("exit %d: %q %s", code, out, errs)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "binance:") || !strings.HasSuffix(l, "USDT") {
			t.Fatalf("line %q of the list", l)
		}
	}
	file := writeFile(t, dir, "markets.txt", strings.Join(append(lines[:1], "binance:BTCUSDT", "binance:ETHUSDT # and ether"), "\n"))
	for i, args := range [][]string{
		{"--markets-file", file},
		{"--config", writeFile(t, dir, "c.yaml", "markets_file: "+file)},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		code, _, errs := run(t, ctx, append([]string{"run", "--sim", "--db", filepath.Join(dir, fmt.Sprint(i, ".db")), "--listen", "127.0.0.1:0"}, args...)...)
		cancel()
		if code != 0 || !strings.Contains(errs, "markets=\"[binance:BTCUSDT binance:ETHUSDT]\"") {
			t.Fatalf("run %v: exit %d\n%s", args, code, errs)
		}
	}
}

// TestBackfillReports: backfill says what it received, what the store
// had, and what the venue did not have; a second run skips the days
// already whole; a stopped run says where, in one line.
func TestBackfillReports(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "b.db")
	span := func(from time.Time, d time.Duration) []string {
		return []string{"backfill", "--sim", "--market", "binance:BTCUSDT", "--from", from.Format(time.RFC3339), "--to", from.Add(d).Format(time.RFC3339), "--db", db}
	}
	recent := span(time.Now().UTC().Add(-5*time.Hour).Truncate(time.Hour), 2*time.Hour) // the simulator serves its last hours
	for _, c := range []struct {
		args []string
		want string
	}{
		{recent, ": 120 minutes; 120 received from the venue (120 of them new or changed here); 0 already final here; 0 the venue did not have"},
		{recent, ": 120 minutes; 0 received from the venue (0 of them new or changed here); 120 already final here; 0 the venue did not have"},
		{span(time.Now().UTC().Add(-10*24*time.Hour).Truncate(time.Hour), 2*time.Hour),
			": 120 minutes; 0 received from the venue (0 of them new or changed here); 0 already final here; 120 the venue did not have"},
	} {
		if code, out, errs := run(t, context.Background(), c.args...); code != 0 || !strings.Contains(out, c.want) {
			t.Fatalf("%v: exit %d: %q %s; want %q", c.args, code, out, errs, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before the first day
	code, _, errs := run(t, ctx, recent...)
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "stopped at "+recent[5]) ||
		!strings.Contains(errs, "run the same command to continue from there") {
		t.Fatalf("a stopped backfill: exit %d, %q", code, errs)
	}
}

func TestOfflineHint(t *testing.T) {
	dns := fmt.Errorf("fetch: GET https://api.binance.com/x: giving up: %w", &net.DNSError{Err: "no such host", Name: "api.binance.com", IsNotFound: true})
	if got := offlineHint(dns).Error(); got != "cannot resolve api.binance.com: no network or DNS (use --sim to run offline)" {
		t.Errorf("offlineHint(DNS) = %q", got)
	}
	other := errors.New("HTTP 500")
	if got := offlineHint(other); got != other {
		t.Errorf("offlineHint(other) = %v", got)
	}
}
