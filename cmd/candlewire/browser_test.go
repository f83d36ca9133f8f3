package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candlewire/candlewire/internal/web"
)

const chromium = "/usr/bin/chromium"

// need skips a test that needs a tool, or fails it where CI requires the
// tools (CANDLEWIRE_REQUIRE_TOOLS).
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CANDLEWIRE_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s (scripts/test installs and builds it)", what)
	}
	t.Skip(what)
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestChartPage drives the chart page in headless Chromium against a real
// `candlewire run --sim`: the chart fills with candles, every transport
// keeps it live when switched to, it resumes by itself after the server is
// killed and restarted, it starts again from the history when a server on
// a new database refuses its cursor, and a screenshot is saved as an
// artifact.
func TestChartPage(t *testing.T) {
	addr := freePort(t)
	db := filepath.Join(t.TempDir(), "page.db")
	args := []string{"run", "--sim", "--sim-speed", "60", "--db", db, "--listen", addr}
	p := start(t, args...)
	defer func() { p.kill(t) }()

	ctx := browse(t, "http://"+addr+"/", 1280)
	waitJS(t, ctx, "candles drawn", `window.candlewire.bars.size > 0 && document.querySelectorAll('#chart canvas').length > 0`)
	// binance:BTCUSDT's tick in the venue's list is 0.01: prices at 2 places.
	waitJS(t, ctx, "prices at the market's own decimals", `window.candlewire.precision === 2`)
	for _, tr := range []string{"sse", "longpoll", "poll", "ws"} {
		before := eval[int](t, ctx, fmt.Sprintf(`window.candlewire.stats[%q] ? window.candlewire.stats[%q].updates : 0`, tr, tr))
		if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS("#t-"+tr))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, tr+" keeps the chart live", fmt.Sprintf(`window.candlewire.transport === %q && window.candlewire.stats[%q].updates >= %d`, tr, tr, before+3))
	}
	// Kill the server and start it again on the same address: the page
	// resumes from its cursor without a reload.
	updates := eval[int](t, ctx, `window.candlewire.stats.ws.updates`)
	p.kill(t)
	time.Sleep(time.Second)
	p = start(t, args...)
	waitJS(t, ctx, "the page resumed after the restart", fmt.Sprintf(`window.candlewire.stats.ws.updates >= %d && window.candlewire.stats.ws.requests >= 2`, updates+3))
	// Start it again on a new, empty database: the page's cursor is ahead
	// of every change the server has, the server refuses it (400), and the
	// page starts again from the history instead of waiting forever.
	updates = eval[int](t, ctx, `window.candlewire.stats.ws.updates`)
	p.kill(t)
	time.Sleep(time.Second)
	args[5] = filepath.Join(t.TempDir(), "new.db")
	p = start(t, args...)
	waitJS(t, ctx, "the page started again on a new database", fmt.Sprintf(`window.candlewire.stats.ws.updates >= %d`, updates+3))
	screenshot(t, ctx, "chart-page.png")
}

// screenshot saves the page as an artifact named name.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("CANDLEWIRE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// browse opens url in headless Chromium, in a window width pixels wide,
// closed when the test ends; the context is the page's, for two minutes.
func browse(t *testing.T, url string, width int) context.Context {
	t.Helper()
	_, err := exec.LookPath(chromium)
	need(t, err == nil, "Debian's chromium is not installed")
	need(t, web.Built(), "the chart page is not built (./scripts/build-web)")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, 800))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelT)
	// A window narrower than headless Chromium's smallest (500 px) is
	// an emulated phone screen.
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(int64(width), 800)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestChartPageNarrowAndDisconnected: on a 400 px wide screen nothing
// overflows sideways (the price axis is inside the window), volume has its
// own pane, the picker lists the demo's markets; when the venue stops
// taking connections, a banner says since when, why and when the server
// tries again, and it goes once the venue is back.
func TestChartPageNarrowAndDisconnected(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	p := start(t, "run", "--sim", "--sim-speed", "60", "--markets", "binance:BTCUSDT,binance:ETHUSDT,okx:BTC-USDT",
		"--db", filepath.Join(t.TempDir(), "narrow.db"), "--listen", addr)
	defer p.stop(t)
	ctx := browse(t, "http://"+addr+"/", 400)
	waitJS(t, ctx, "candles drawn", `window.candlewire.bars.size > 0 && document.querySelectorAll('#chart canvas').length > 0`)
	waitJS(t, ctx, "the stats table drawn", `document.querySelectorAll('#stats tr').length === 5`)
	if w := eval[int](t, ctx, `window.innerWidth`); w > 400 {
		t.Fatalf("window %d px wide, want 400", w)
	}
	overflow := `(() => {
		const w = document.documentElement.clientWidth;
		const out = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 0.5 && e.closest('#transports') === null);
		return document.documentElement.scrollWidth > w ? 'the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + w :
			out.length ? out.map((e) => e.tagName + '#' + e.id + ' right ' + e.getBoundingClientRect().right).join(', ') : '';
	})()`
	if got := eval[string](t, ctx, overflow); got != "" {
		t.Fatalf("at 400 px: %s", got)
	}
	if got := eval[string](t, ctx, `(() => { const t = document.getElementById('transports'); return t.scrollWidth > t.clientWidth ? 'table ' + t.scrollWidth + ' in ' + t.clientWidth : ''; })()`); got != "" {
		t.Errorf("the transport table is cut at 400 px: %s", got)
	}
	if n := eval[int](t, ctx, `window.candlewire.panes`); n != 2 {
		t.Errorf("%d chart panes, want candles and volume apart", n)
	}
	if n := eval[int](t, ctx, `document.getElementById('market').options.length`); n != 3 {
		t.Errorf("the market picker lists %d markets, want 3", n)
	}
	sim := regexp.MustCompile(`msg="simulator started" addr=(\S+)`).FindStringSubmatch(p.logText())
	if sim == nil {
		t.Fatalf("no simulator address in the log:\n%s", p.logText())
	}
	// Refuse connects for 8 simulated minutes (8 s at 60x), and cut the
	// connection there is.
	for _, q := range []string{"venue=binance&kind=refuse&for=8m", "venue=binance&kind=drop"} {
		resp, err := http.Post("http://"+sim[1]+"/admin/fault?"+q, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	waitJS(t, ctx, "the banner says the venue is down, why, and when it tries again",
		`!document.getElementById('banner').hidden && /^binance: not connected for \d+ s: the venue refused the connection \(rate limited\); next attempt in \d+ s/.test(document.getElementById('banner').textContent)`)
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("with the banner the page is %d px wide", w)
	}
	screenshot(t, ctx, "chart-page-400px.png")
	waitJS(t, ctx, "the banner goes once the venue is back", `document.getElementById('banner').hidden`)
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it holds.
func waitJS(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({transport: window.candlewire.transport, bars: window.candlewire.bars.size, stats: window.candlewire.stats, error: window.candlewire.error})`))
			t.Fatalf("%s: timed out (%v); page state %s", what, err, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
