package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// TestBackupUnderRun: `candlewire backup` copies the store of a running
// `run` (which goes on writing), the copy opens and reads as a store, and
// the running process is not disturbed.
func TestBackupUnderRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "live.db")
	p := start(t, "run", "--sim", "--sim-speed", "120", "--db", db, "--listen", "127.0.0.1:0", "--markets", "binance:BTCUSDT,okx:BTC-USDT",
		"--log", "debug")
	defer p.stop(t)
	waitMarkets(t, p, []market.Market{market.Default, {Venue: "okx", Symbol: "BTC-USDT"}})
	for deadline := time.Now().Add(30 * time.Second); p.scrape(t).sum("candlewire_candle_writes_total", "outcome", "changed") < 100; {
		if time.Now().After(deadline) {
			t.Fatalf("run stored too little within 30 s:\n%s", p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	copyPath := filepath.Join(dir, "copy.db")
	cmd := exec.Command(os.Args[0], "backup", "--db", db, copyPath)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`^backed up \S+ to \S+: (\d+) candles through change \d+, [\d.]+ MiB, in \S+\n$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("backup said %q", out)
	}
	ctx := context.Background()
	cp, err := sqlite.OpenShared(ctx, copyPath)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer cp.Close()
	got, err := cp.Candles(ctx, market.Default, market.I1m, 0, time.Now().Add(24*time.Hour).UnixMilli())
	if err != nil || len(got) == 0 {
		t.Fatalf("the copy holds %d 1m candles of %s: %v", len(got), market.Default, err)
	}
	if n, _ := strconv.Atoi(string(m[1])); n < len(got) {
		t.Fatalf("backup counted %d candles, the copy holds %d of one series", n, len(got))
	}
	again := exec.Command(os.Args[0], "backup", "--db", db, copyPath)
	again.Env = cmd.Env
	if out, err := again.CombinedOutput(); err == nil || !regexp.MustCompile(`file already exists \(a backup never replaces a file\)`).Match(out) {
		t.Fatalf("a second backup onto the copy: %v, %s", err, out)
	}
	written := p.scrape(t).sum("candlewire_candle_writes_total", "outcome", "changed")
	deadline := time.Now().Add(30 * time.Second)
	for p.scrape(t).sum("candlewire_candle_writes_total", "outcome", "changed") == written && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if p.scrape(t).sum("candlewire_candle_writes_total", "outcome", "changed") == written {
		t.Fatal("run stored nothing after the backup")
	}
	if regexp.MustCompile(`store write failed|database is locked`).MatchString(p.logText()) {
		t.Fatalf("run's log after the backup:\n%s", p.logText())
	}
}
