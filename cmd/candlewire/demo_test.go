package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// TestDemoGoesOn: a second simulation on the database of a first goes on
// where the first stopped, in time and in price, so the chart joins one
// series: every minute once, no bin of the first rewritten, the first new
// bin opening at the last stored close (within a few moves). So does
// `watch --sim --db`. Live candlewire refuses that database.
func TestDemoGoesOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	args := func(speed string) []string {
		return []string{"run", "--sim", "--sim-speed", speed, "--db", db, "--listen", "127.0.0.1:0"}
	}
	// The first simulation runs an hour ahead of the clock; a second that
	// started from the clock would store nothing new for half a minute at
	// 120x, and its prices would not join.
	runFor(t, args("1200"), 60, time.Minute)
	goesOn(t, db, "run --sim", func() { runFor(t, args("120"), 3, 15*time.Second) })
	goesOn(t, db, "watch --sim", func() { watchFor(t, db, 5*time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	live := exec.CommandContext(ctx, os.Args[0], "run", "--db", db, "--listen", "127.0.0.1:0", "--ws-url", "binance=ws://127.0.0.1:1", "--rest-url", "binance=http://127.0.0.1:1")
	live.Env = append(os.Environ(), childEnv+"=1")
	out, err := live.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "holds simulated candles") {
		t.Fatalf("live run on the simulation's database: %v\n%s", err, out)
	}
}

// goesOn checks that what run stores in db goes on from what db held: no
// hole, no stored bin up to the newest final changed, the next bin opening
// near that final's close, and three minutes more.
func goesOn(t *testing.T, db, what string, run func()) {
	t.Helper()
	rev := map[int64]int64{}
	var seam market.Candle // the newest final before
	for _, c := range demoBins(t, db) {
		rev[c.OpenTime] = c.Rev
		if c.Final() {
			seam = c
		}
	}
	run()
	all := demoBins(t, db)
	for i, c := range all {
		if i > 0 && c.OpenTime != all[i-1].OpenTime+60_000 {
			t.Fatalf("%s: bin %s after %s: the series has a hole", what, at(c.OpenTime), at(all[i-1].OpenTime))
		}
		if r, had := rev[c.OpenTime]; had && c.OpenTime <= seam.OpenTime && c.Rev != r {
			t.Errorf("%s rewrote bin %s (revision %d, was %d)", what, at(c.OpenTime), c.Rev, r)
		}
		// BTCUSDT's simulated trades move about 0.32 a trade: five times
		// that is a jump, not a move.
		if c.OpenTime == seam.OpenTime+60_000 {
			if d := c.Open.Sub(seam.Close).Abs(); d.GreaterThan(market.MustDecimal("1.6")) {
				t.Errorf("%s opens at %s, the stored simulation closed at %s", what, c.Open, seam.Close)
			}
		}
	}
	if last := all[len(all)-1]; last.OpenTime < seam.OpenTime+3*60_000 {
		t.Fatalf("%s stored up to %s, the simulation before up to %s", what, at(last.OpenTime), at(seam.OpenTime))
	}
}

// watchFor runs `watch --sim --db db` (60x) for d, then interrupts it.
func watchFor(t *testing.T, db string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "watch", "--sim", "--db", db)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 20 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() == nil || strings.Count(string(out), "binance:BTCUSDT") < 3 {
		t.Fatalf("watch --sim --db: %v\n%s", err, out)
	}
}

// runFor runs candlewire with args until it has stored n more final 1m
// candles of binance:BTCUSDT (within the time given), and stops it.
func runFor(t *testing.T, args []string, n int, within time.Duration) {
	t.Helper()
	db := args[slices.Index(args, "--db")+1]
	had := market.Finals(demoBins(t, db))
	p := start(t, args...)
	defer p.stop(t)
	for deadline := time.Now().Add(within); market.Finals(demoBins(t, db)) < had+n; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d new finals in %s, want %d; log:\n%s", market.Finals(demoBins(t, db))-had, within, n, p.logText())
		}
	}
}

// demoBins reads the 1m candles of binance:BTCUSDT in db (none before it
// exists).
func demoBins(t *testing.T, db string) []market.Candle {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return nil
	}
	st, err := sqlite.OpenShared(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.Candles(context.Background(), market.Default, market.I1m, 0, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// at formats a bin's open time.
func at(ms int64) string { return time.UnixMilli(ms).UTC().Format("15:04") }
