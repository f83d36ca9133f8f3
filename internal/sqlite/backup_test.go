package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// TestBackupWhileWriting: a backup taken while the writer goes on is one
// snapshot: it opens as a store, every candle in it is one the writer had
// stored (the same revision or an older one of the same bin), and nothing
// stored before the backup began is missing from it.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	w, err := Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	markets := []market.Market{market.Default, {Venue: "okx", Symbol: "BTC-USDT"}}
	rng := rand.New(rand.NewPCG(1, 2))
	now := int64(1_800_000_000_000)
	write := func() {
		now += 60_000
		for range 5 {
			if _, err := w.Upsert(ctx, storetest.RandomVersions(rng, markets, now)); err != nil {
				t.Error(err)
			}
		}
	}
	for range 50 {
		write()
	}
	var series []market.Series
	for _, m := range markets {
		for _, iv := range market.Intervals {
			series = append(series, market.Series{Market: m, Interval: iv})
		}
	}
	before, _ := w.Since(ctx, series, 0, 1_000_000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // the writer goes on during the backup
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				write()
			}
		}
	}()
	dst := filepath.Join(dir, "copy.db")
	info, err := Backup(ctx, src, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	cp, err := OpenShared(ctx, dst)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer cp.Close()
	copied, err := cp.Since(ctx, series, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(copied)) != info.Candles || info.Bytes <= 0 || len(copied) < len(before) {
		t.Fatalf("copy: %d candles (info %+v), %d stored before the backup", len(copied), info, len(before))
	}
	live := map[[3]any]market.Candle{}
	after, _ := w.Since(ctx, series, 0, 1_000_000)
	for _, c := range after {
		live[[3]any{c.Market, c.Interval, c.OpenTime}] = c
	}
	got := map[[3]any]market.Candle{}
	for _, c := range copied {
		k := [3]any{c.Market, c.Interval, c.OpenTime}
		got[k] = c
		if l, ok := live[k]; !ok || c.Rev > l.Rev || c.Seq > info.Head {
			t.Fatalf("the copy has %+v, the writer %+v (head %d)", c, l, info.Head)
		}
	}
	for _, c := range before {
		if g, ok := got[[3]any{c.Market, c.Interval, c.OpenTime}]; !ok || g.Rev < c.Rev {
			t.Fatalf("stored before the backup: %+v; in the copy: %+v", c, g)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".copy.db.partial-*")); len(leftovers) > 0 {
		t.Fatalf("left behind: %v", leftovers)
	}
}

func TestBackupRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	w, err := Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	exists := filepath.Join(dir, "exists.db")
	os.WriteFile(exists, []byte("keep me"), 0o600)
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database, but long enough to be read as a header by SQLite, surely"), 0o600)
	for _, c := range []struct {
		src, dst string
		is       error
	}{
		{filepath.Join(dir, "missing.db"), filepath.Join(dir, "a.db"), fs.ErrNotExist},
		{src, exists, fs.ErrExist},
		{notDB, filepath.Join(dir, "b.db"), nil},
		{src, filepath.Join(dir, "no/such/dir/c.db"), nil},
	} {
		if _, err := Backup(ctx, c.src, c.dst); err == nil || c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("Backup(%s, %s) = %v, want an error (%v)", c.src, c.dst, err, c.is)
		}
	}
	if b, _ := os.ReadFile(exists); string(b) != "keep me" {
		t.Fatal("an existing file was overwritten")
	}
}
