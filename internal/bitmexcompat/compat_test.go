package bitmexcompat

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// rig is a real store and hub behind the endpoint on a loopback server.
type rig struct {
	st  *sqlite.Store
	hub *hub.Hub
	s   *Server
	srv *httptest.Server
}

func newRig(t testing.TB) *rig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, hub: hub.New(hub.Config{})}
	r.s = New(Config{Store: st, Hub: r.hub, Markets: []market.Market{market.Default, {Venue: "binance", Symbol: "ETHUSDT"}}})
	mux := http.NewServeMux()
	r.s.Register(mux)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() { r.hub.Close(); r.srv.Close(); st.Close() })
	return r
}

// base is the open time of minute 0 in the tests: 2023-11-14T22:14:00Z.
const base = 1_700_000_040_000

// final stores and publishes the final 1m candle of minute m of
// binance:BTCUSDT, at price px with 0.5 BTC traded.
func (r *rig) final(t testing.TB, m int, px string) {
	t.Helper()
	p := market.MustDecimal(px)
	c := market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: base + int64(m)*60_000,
		Open: p, High: p, Low: p, Close: p, Volume: market.MustDecimal("0.5"), Quote: p.Mul(market.MustDecimal("0.5")), Trades: 3,
		State: market.Reconciled, Source: market.SourceKline}
	res, err := r.st.Upsert(context.Background(), []market.Candle{c})
	if err != nil {
		t.Fatal(err)
	}
	r.hub.Publish(res.Changed)
}

// forming stores minute m of binance:BTCUSDT as a bin still forming.
func (r *rig) forming(t testing.TB, m int) {
	t.Helper()
	p := market.MustDecimal("64100")
	c := market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: base + int64(m)*60_000,
		Open: p, High: p, Low: p, Close: p, Volume: market.MustDecimal("0.1"), Quote: p.Mul(market.MustDecimal("0.1")), Trades: 1,
		State: market.Provisional, Source: market.SourceTrades}
	if _, err := r.st.Upsert(context.Background(), []market.Candle{c}); err != nil {
		t.Fatal(err)
	}
}

func dial(t *testing.T, r *rig, query string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(r.srv.URL, "http")+"/realtime"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// TestRealtime walks through BitMEX's protocol: welcome, URL and op
// subscriptions with ack and partial, inserts stamped with the bin's end,
// trades, ping/pong, and BitMEX-shaped errors.
func TestRealtime(t *testing.T) {
	r := newRig(t)
	r.final(t, 0, "64000.5")
	c := dial(t, r, "?subscribe=tradeBin1m:XBTUSD")
	steps := []struct {
		send string   // "" to only read
		want []string // substrings of the next messages, in order
	}{
		{"", []string{`"info":"Welcome to the BitMEX Realtime API."`, `{"success":true,"subscribe":"tradeBin1m:XBTUSD","request":{"args":["tradeBin1m:XBTUSD"],"op":"subscribe"}}`,
			`"table":"tradeBin1m","action":"partial"`}},
		{"ping", []string{"pong"}},
		{`{"op":"subscribe","args":["tradeBin1m:NOPE"]}`, []string{`"status":400,"error":"Unknown symbol: NOPE"`}},
		{`{"op":"subscribe","args":"orderBookL2:XBTUSD"}`, []string{`"error":"Unknown table: orderBookL2"`}},
		{`{"op":"dance"}`, []string{`"error":"Unknown or unsupported op: dance"`}},
		{`{not json`, []string{`"status":400`}},
		{`{"op":"subscribe","args":["tradeBin1m:XBTUSD"]}`, []string{`already subscribed`}},
		{`{"op":"subscribe","args":["trade:XBTUSD"]}`, []string{`"subscribe":"trade:XBTUSD"`, `"table":"trade","action":"partial"`}},
	}
	for _, s := range steps {
		if s.send != "" {
			write(t, c, s.send)
		}
		for _, w := range s.want {
			if got := read(t, c); !strings.Contains(got, w) {
				t.Fatalf("after %q: got %s, want %s", s.send, got, w)
			}
		}
	}
	// The partial held minute 0, stamped with its end.
	r.final(t, 1, "64001")
	if got := read(t, c); !strings.Contains(got, `"action":"insert"`) || !strings.Contains(got, `"timestamp":"2023-11-14T22:16:00.000Z","symbol":"XBTUSD","open":64001`) {
		t.Fatalf("insert: %s", got)
	}
	r.s.PublishTrade(market.Trade{Market: market.Default, Time: base + 65_000, Price: market.MustDecimal("64002"),
		Size: market.MustDecimal("0.01"), Quote: market.MustDecimal("640.02"), Buy: true, LastSeq: 77})
	if got := read(t, c); !strings.Contains(got, `"table":"trade","action":"insert","data":[{"timestamp":"2023-11-14T22:15:05.000Z","symbol":"XBTUSD","side":"Buy","size":640,"price":64002`) {
		t.Fatalf("trade insert: %s", got)
	}
	write(t, c, `{"op":"unsubscribe","args":["tradeBin1m:XBTUSD"]}`)
	if got := read(t, c); !strings.Contains(got, `"unsubscribe":"tradeBin1m:XBTUSD"`) {
		t.Fatalf("unsubscribe: %s", got)
	}
	r.final(t, 2, "64002")
	write(t, c, "ping")
	if got := read(t, c); got != "pong" {
		t.Fatalf("after unsubscribing, got %s before the pong", got)
	}
}

// TestPartialShape: the bin partial carries BitMEX's fields and types.
func TestPartialShape(t *testing.T) {
	r := newRig(t)
	r.final(t, 0, "64000.5")
	c := dial(t, r, "?subscribe=tradeBin1m:XBTUSD")
	read(t, c)
	read(t, c)
	var p struct {
		Table  string           `json:"table"`
		Action string           `json:"action"`
		Data   []map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(read(t, c)), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 1 {
		t.Fatalf("partial %+v", p)
	}
	row := p.Data[0]
	want := map[string]any{"timestamp": "2023-11-14T22:15:00.000Z", "symbol": "XBTUSD", "open": 64000.5, "close": 64000.5,
		"trades": 3.0, "volume": 32000.0, "homeNotional": 0.5, "foreignNotional": 32000.25, "turnover": 50000000.0, "vwap": 64000.5}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %v, want %v (row %v)", k, row[k], v, row)
		}
	}
}

// TestBucketed: BitMEX's REST parameters and conventions.
func TestBucketed(t *testing.T) {
	r := newRig(t)
	for m := range 5 {
		r.final(t, m, fmt.Sprint(64000+m))
	}
	cases := []struct {
		query string
		want  []string // timestamps of the rows, in order
		code  int
	}{
		{"binSize=1m&symbol=XBTUSD", []string{"22:15", "22:16", "22:17", "22:18", "22:19"}, 200},
		{"binSize=1m&symbol=xbtusd&count=2&reverse=true", []string{"22:19", "22:18"}, 200},
		{"binSize=1m&symbol=XBTUSD&startTime=2023-11-14T22:17:00.000Z&count=2", []string{"22:17", "22:18"}, 200},
		{"binSize=1m&symbol=XBTUSD&endTime=2023-11-14T22:17:00.000Z&reverse=true", []string{"22:17", "22:16", "22:15"}, 200},
		{"binSize=1m&symbol=XBTUSD&start=1&count=1", []string{"22:16"}, 200},
		{"binSize=5m&symbol=ETHUSD", nil, 200},
		{"binSize=2m&symbol=XBTUSD", nil, 400},
		{"binSize=1m&symbol=NOPE", nil, 404},
		{"binSize=1m&symbol=XBTUSD&count=5000", nil, 400},
	}
	for _, c := range cases {
		code, got, body := bucketed(t, r, c.query)
		if code != c.code {
			t.Errorf("%s: %d %s", c.query, code, body)
			continue
		}
		if c.code != 200 {
			if !strings.Contains(body, `"error":{"message":`) {
				t.Errorf("%s: error body %s", c.query, body)
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: rows %v, want %v", c.query, got, c.want)
		}
	}
}

// TestBucketedReverse: reverse=true answers the newest bins at or after
// startTime and at or before endTime, newest first, start= skipping the
// newest, across a gap in the stored bins, with the forming bin only when
// partial=true.
func TestBucketedReverse(t *testing.T) {
	r := newRig(t)
	for _, m := range []int{0, 1, 2, 3, 4, 30, 31} { // stamped 22:15-22:19, 22:45, 22:46
		r.final(t, m, fmt.Sprint(64000+m))
	}
	r.forming(t, 32) // 22:47
	const q = "binSize=1m&symbol=XBTUSD&reverse=true&"
	cases := []struct {
		query string
		want  []string
	}{
		{"startTime=2023-11-14T22:16:00.000Z&count=5", []string{"22:46", "22:45", "22:19", "22:18", "22:17"}},
		{"startTime=2023-11-14T22:16:00.000Z&count=2", []string{"22:46", "22:45"}},
		{"startTime=2023-11-14T22:16:00.000Z&endTime=2023-11-14T22:18:00.000Z&count=5", []string{"22:18", "22:17", "22:16"}},
		{"startTime=2023-11-14T22:16:00.000Z&endTime=2023-11-14T22:18:00.000Z&count=2", []string{"22:18", "22:17"}},
		{"startTime=2023-11-14T22:16:00.000Z&endTime=2023-11-14T22:18:00.000Z&start=1&count=5", []string{"22:17", "22:16"}},
		{"startTime=2023-11-14T22:16:00.000Z&endTime=2023-11-14T22:18:00.000Z&start=3", nil},
		{"startTime=2023-11-14T22:15:00.000Z&start=2&count=2", []string{"22:19", "22:18"}},
		{"startTime=2023-11-14T22:17:30.000Z&endTime=2023-11-14T22:45:00.000Z", []string{"22:45", "22:19", "22:18"}},
		{"endTime=2023-11-14T22:40:00.000Z&count=2", []string{"22:19", "22:18"}},
		{"endTime=2023-11-14T22:40:00.000Z&start=4&count=2", []string{"22:15"}},
		{"count=3&start=1", []string{"22:45", "22:19", "22:18"}},
		{"count=2&partial=true", []string{"22:47", "22:46"}},
		{"startTime=2023-11-14T22:50:00.000Z", nil},
		{"startTime=2023-11-14T22:18:00.000Z&endTime=2023-11-14T22:16:00.000Z", nil},
		// An end thousands of years away is a page read, not a walk back
		// through the empty years (one request could make 10^8 queries).
		{"endTime=9999-12-31T00:00:00.000Z&count=1", []string{"22:46"}},
		{"startTime=2000-01-01T00:00:00.000Z&endTime=9999-12-31T00:00:00.000Z&count=2&start=1", []string{"22:45", "22:19"}},
	}
	for _, c := range cases {
		code, got, body := bucketed(t, r, q+c.query)
		if code != 200 || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %d rows %v, want %v (%s)", c.query, code, got, c.want, body)
		}
	}
	if code, _, body := bucketed(t, r, q+"start=10001"); code != http.StatusBadRequest || !strings.Contains(body, "10000") {
		t.Errorf("start=10001: %d %s, want 400 naming the limit", code, body)
	}
}

// bucketed GETs /api/v1/trade/bucketed?query: the status, the rows'
// timestamps as hh:mm, and the body.
func bucketed(t *testing.T, r *rig, query string) (int, []string, string) {
	t.Helper()
	c := http.Client{Timeout: 30 * time.Second} // a query that walks the store must fail, not hang
	resp, err := c.Get(r.srv.URL + "/api/v1/trade/bucketed?" + query)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil, string(body)
	}
	var rows []struct {
		Timestamp string `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var got []string
	for _, row := range rows {
		got = append(got, row.Timestamp[11:16])
	}
	return resp.StatusCode, got, string(body)
}

// TestTutorialProgram runs the tutorial's Python websocket-client program
// (on_open, on_message, on_error, on_close, run_forever) against the
// endpoint: it must get the welcome, the partial and live inserts.
func TestTutorialProgram(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's python3-websocket installs for this one
	if err := exec.Command(python, "-c", "import websocket").Run(); err != nil {
		if os.Getenv("CANDLEWIRE_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s cannot import websocket (install the Debian package python3-websocket): %v", python, err)
		}
		t.Skipf("%s cannot import websocket; install the Debian package python3-websocket (.ci/run does)", python)
	}
	r := newRig(t)
	r.final(t, 0, "64000")
	url := "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/realtime?subscribe=tradeBin1m:XBTUSD"
	cmd := exec.Command(python, "testdata/tutorial.py", url, "5") // welcome, ack, partial, two inserts
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // it should have exited
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	next := func() string {
		select {
		case l, ok := <-lines:
			if ok {
				got = append(got, l)
			}
			return l
		case <-time.After(10 * time.Second):
			t.Fatalf("the program printed %q and then nothing", got)
			return ""
		}
	}
	for _, want := range []string{"open", "Welcome to the BitMEX Realtime API", `"subscribe":"tradeBin1m:XBTUSD"`, `"action":"partial"`} {
		if l := next(); !strings.Contains(l, want) {
			t.Fatalf("printed %q, want %q", l, want)
		}
	}
	r.final(t, 1, "64001")
	r.final(t, 2, "64002")
	for _, want := range []string{`"action":"insert"`, `"action":"insert"`} {
		if l := next(); !strings.Contains(l, want) {
			t.Fatalf("printed %q, want %q (all: %q)", l, want, got)
		}
	}
	for l := next(); l != ""; l = next() { // on_close's line, depending on the library version
		if l != "closed" {
			t.Fatalf("printed %q after the inserts", l)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the program failed: %v", err)
	}
}

// TestCCXT runs ccxt's bitmex adapter (testdata/ccxt, installed by
// scripts/test) against the endpoint with only its URLs changed: it loads
// the markets, fetches history and recent trades over REST and watches
// live bins.
func TestCCXT(t *testing.T) {
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat("testdata/ccxt/node_modules/ccxt")
	if nodeErr != nil || modErr != nil {
		if os.Getenv("CANDLEWIRE_REQUIRE_TOOLS") != "" {
			t.Fatalf("node or testdata/ccxt/node_modules missing (scripts/test runs npm ci there): %v %v", nodeErr, modErr)
		}
		t.Skip("node or testdata/ccxt/node_modules missing; run npm ci in internal/bitmexcompat/testdata/ccxt")
	}
	r := newRig(t)
	for m := range 5 {
		r.final(t, m, fmt.Sprint(64000+m))
	}
	for i := range int64(8) { // trades 0..7: ccxt asks for the newest 5
		r.s.PublishTrade(market.Trade{Market: market.Default, Time: base + i*1000, Price: market.MustDecimal(fmt.Sprint(65000 + i)),
			Size: market.MustDecimal("0.25"), Quote: market.MustDecimal(fmt.Sprint(16250 + i/4)), Buy: i%2 == 1, LastSeq: 77 + i})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live := make(chan struct{})
	go func() { // live bins while ccxt watches
		defer close(live)
		for m := 5; ctx.Err() == nil; m++ {
			time.Sleep(300 * time.Millisecond)
			if ctx.Err() == nil {
				r.final(t, m, fmt.Sprint(64000+m))
			}
		}
	}()
	cmd := exec.CommandContext(ctx, "node", "check.mjs", r.srv.URL)
	cmd.Dir = "testdata/ccxt"
	out, err := cmd.CombinedOutput()
	cancel()
	<-live
	if err != nil {
		t.Fatalf("ccxt: %v\n%s", err, out)
	}
	// Every bar ccxt returns must be minute k of the rig, at its open time,
	// with close 64000+k.
	var watched int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kind, data, _ := strings.Cut(line, " ")
		switch kind {
		case "markets":
			if !strings.Contains(data, `"BTC/USD:BTC"`) {
				t.Errorf("markets %s", data)
			}
		case "fetchOHLCV", "watchOHLCV":
			var bars [][]any
			if kind == "watchOHLCV" {
				data, watched = "["+data+"]", watched+1
			}
			if err := json.Unmarshal([]byte(data), &bars); err != nil || len(bars) == 0 || kind == "fetchOHLCV" && len(bars) != 5 {
				t.Fatalf("%s: %s (%v)", kind, data, err)
			}
			for _, bar := range bars {
				k := (bar[0].(float64) - base) / 60_000
				if bar[4].(float64) != 64000+k {
					t.Errorf("%s bar %v: close is not minute %v's", kind, bar, k)
				}
			}
		case "fetchTrades":
			checkCCXTTrades(t, data)
		default:
			t.Errorf("unexpected output: %s", line)
		}
	}
	if watched != 2 {
		t.Errorf("%d live bins watched, want 2:\n%s", watched, out)
	}
}

// TestInstrumentsAndAssets: the lists clients read before anything else.
func TestInstrumentsAndAssets(t *testing.T) {
	r := newRig(t)
	var ins []map[string]any
	getJSON(t, r.srv.URL+"/api/v1/instrument/active", &ins)
	if len(ins) != 2 || ins[1]["symbol"] != "XBTUSD" || ins[1]["isInverse"] != true || ins[1]["candlewireMarket"] != "binance:BTCUSDT" ||
		ins[0]["symbol"] != "ETHUSD" || ins[0]["isQuanto"] != true || ins[0]["typ"] != "FFWCSX" {
		t.Fatalf("instruments %v", ins)
	}
	var assets []map[string]any
	getJSON(t, r.srv.URL+"/api/v1/wallet/assets", &assets)
	if len(assets) != 2 || assets[0]["currency"] != "XBt" || assets[1]["asset"] != "ETH" {
		t.Fatalf("assets %v", assets)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestAlias(t *testing.T) {
	for in, want := range map[string]string{
		"binance:BTCUSDT": "XBTUSD", "binance:ETHUSDT": "ETHUSD", "okx:BTC-USDT": "XBTUSD", "okx:ETH-USD": "ETHUSD",
		"okx:BTC-USD-SWAP": "", "binance:ETHBTC": "", "binance:USDT": "", "okx:-USDT": "", "okx:A-B-USDT": "",
	} {
		m, err := market.ParseMarket(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Alias(m); got != want {
			t.Errorf("Alias(%s) = %q, want %q", in, got, want)
		}
	}
}

// checkCCXTTrades: ccxt's fetchTrades(symbol, undefined, 5) got the
// newest five of the rig's eight trades, oldest first as ccxt orders them,
// with their times, prices, sides and BitMEX-sized amounts.
func checkCCXTTrades(t *testing.T, data string) {
	t.Helper()
	var trades [][]any
	if err := json.Unmarshal([]byte(data), &trades); err != nil || len(trades) != 5 {
		t.Fatalf("fetchTrades: %s (%v)", data, err)
	}
	for j, tr := range trades {
		i := int64(3 + j)
		side := "sell"
		if i%2 == 1 {
			side = "buy"
		}
		if tr[0].(float64) != float64(base+i*1000) || tr[1].(float64) != float64(65000+i) || tr[3] != side || tr[4] == "" {
			t.Errorf("fetchTrades trade %d: %v, want time %d, price %d, %s", j, tr, base+i*1000, 65000+i, side)
		}
	}
}
