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
// series: every minute once, no bin overwritten, the first new bin opening
// at the last stored close (within a few moves). Live candlewire refuses
// that database, and the simulator refuses a live one.
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
	var seam market.Candle // the first run's newest final
	for _, c := range demoBins(t, db) {
		if c.Final() {
			seam = c
		}
	}
	startedAt := time.Now().UnixMilli()
	runFor(t, args("120"), 3, 15*time.Second)
	all := demoBins(t, db)
	for i, c := range all {
		if i > 0 && c.OpenTime != all[i-1].OpenTime+60_000 {
			t.Fatalf("bin %s after %s: the series has a hole", at(c.OpenTime), at(all[i-1].OpenTime))
		}
		if c.OpenTime <= seam.OpenTime && c.Updated >= startedAt {
			t.Errorf("bin %s of the first run was rewritten by the second", at(c.OpenTime))
		}
		// BTCUSDT's simulated trades move about 0.32 a trade: five times
		// that is a jump, not a move.
		if c.OpenTime == seam.OpenTime+60_000 {
			if d := c.Open.Sub(seam.Close).Abs(); d.GreaterThan(market.MustDecimal("1.6")) {
				t.Errorf("the second run opens at %s, the first closed at %s", c.Open, seam.Close)
			}
		}
	}
	if last := all[len(all)-1]; last.OpenTime < seam.OpenTime+3*60_000 {
		t.Fatalf("the second run stored up to %s, the first up to %s", at(last.OpenTime), at(seam.OpenTime))
	}
	live := exec.Command(os.Args[0], "run", "--db", db, "--listen", "127.0.0.1:0", "--ws-url", "binance=ws://127.0.0.1:1", "--rest-url", "binance=http://127.0.0.1:1")
	live.Env = append(os.Environ(), childEnv+"=1")
	out, err := live.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "holds simulated candles") {
		t.Fatalf("live run on the simulation's database: %v\n%s", err, out)
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
