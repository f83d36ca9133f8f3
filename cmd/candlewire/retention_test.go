package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// TestRetentionUnderRun: with retention.intervals {1m: 8d}, a running
// `run` deletes the stored minutes older than that in the background,
// counts them by interval, keeps the hours and the recent minutes, and
// goes on storing.
func TestRetentionUnderRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	old := market.I1m.Truncate(now.Add(-20 * 24 * time.Hour).UnixMilli())
	var cs []market.Candle
	p := market.MustDecimal("100")
	const oldMinutes = 3000
	for i := range int64(oldMinutes) {
		cs = append(cs, market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: old + i*60_000, Open: p, High: p, Low: p, Close: p,
			State: market.Reconciled, Source: market.SourceREST})
	}
	recent := market.I1m.Truncate(now.Add(-time.Hour).UnixMilli()) // the store was collecting an hour ago
	cs = append(cs, market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: recent, Open: p, High: p, Low: p, Close: p,
		State: market.Reconciled, Source: market.SourceREST})
	for i := range int64(50) {
		cs = append(cs, market.Candle{Market: market.Default, Interval: market.I1h, OpenTime: market.I1h.Truncate(old) + i*3_600_000,
			Open: p, High: p, Low: p, Close: p, State: market.Reconciled, Source: market.SourceREST})
	}
	if _, err := st.Upsert(ctx, cs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("retention: {intervals: {1m: 8d}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p1 := start(t, "run", "--sim", "--sim-speed", "60", "--db", db, "--config", cfg, "--listen", "127.0.0.1:0")
	defer p1.stop(t)
	deadline := time.Now().Add(30 * time.Second)
	for p1.scrape(t).sum("candlewire_retention_deleted_total", "interval", "1m") < oldMinutes {
		if time.Now().After(deadline) {
			t.Fatalf("retention deleted %v of %d old minutes within 30 s:\n%s", p1.scrape(t).sum("candlewire_retention_deleted_total", "interval", "1m"),
				oldMinutes, p1.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := p1.scrape(t).sum("candlewire_retention_deleted_total", "interval", "1m"); got != oldMinutes {
		t.Fatalf("counted %v deleted minutes, want %d", got, oldMinutes)
	}
	written := p1.scrape(t).sum("candlewire_candle_writes_total", "outcome", "changed")
	for p1.scrape(t).sum("candlewire_candle_writes_total", "outcome", "changed") == written {
		if time.Now().After(deadline) {
			t.Fatal("run stored nothing after the retention pass")
		}
		time.Sleep(50 * time.Millisecond)
	}
	rd, err := sqlite.OpenShared(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if got, _ := rd.Candles(ctx, market.Default, market.I1m, 0, now.Add(-8*24*time.Hour).UnixMilli()); len(got) != 0 {
		t.Fatalf("%d minutes older than 8 days left, from %s: %+v\n%s", len(got), fmt.Sprint(time.UnixMilli(got[0].OpenTime).UTC()), got[0], p1.logText())
	}
	if got, _ := rd.Candles(ctx, market.Default, market.I1h, 0, now.UnixMilli()); len(got) < 50 {
		t.Fatalf("%d hours left, want the 50 old ones kept (1h has no retention)", len(got))
	}
}
