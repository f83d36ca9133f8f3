package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
)

// TestMigrateSQLiteToPostgres: a SQLite store filled by a simulated run
// (candles through several revisions, rollups, connects) plus ledger
// entries is copied into PostgreSQL; export shows identical candles in
// every interval, copying again copies nothing, and the copy keeps the
// file's origin: a live run refuses it.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	pg := pgtest.Fresh(t)
	file := filepath.Join(t.TempDir(), "c.db")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if code, _, errs := run(t, ctx, "run", "--sim", "--sim-speed", "120", "--db", file, "--listen", "127.0.0.1:0"); code != 0 {
		t.Fatalf("run: %s", errs)
	}
	addGaps(t, file)
	code, out, errs := run(t, context.Background(), "migrate", "--from", file, "--to", pg)
	if code != 0 || !strings.Contains(out, " of 2 gaps") || strings.Contains(out, "copied 0 of") {
		t.Fatalf("migrate exit %d: %s %s", code, out, errs)
	}
	for _, iv := range market.Intervals {
		_, want, _ := run(t, context.Background(), "export", "--db", file, "--interval", string(iv))
		_, got, _ := run(t, context.Background(), "export", "--db", pg, "--interval", string(iv))
		if got != want || strings.Count(want, "\n") < 2 {
			t.Fatalf("%s: export from PostgreSQL differs from SQLite's:\n%s\nwant:\n%s", iv, got, want)
		}
	}
	if _, out, _ = run(t, context.Background(), "migrate", "--from", file, "--to", pg); !strings.HasPrefix(out, "copied 0 of ") ||
		!strings.Contains(out, "0 of 2 gaps") || !strings.Contains(out, ", 0 of ") {
		t.Fatalf("second migrate: %s", out)
	}
	code, _, errs = run(t, context.Background(), "run", "--db", pg, "--listen", "127.0.0.1:0", "--ws-url", "binance=ws://127.0.0.1:1", "--rest-url", "binance=http://127.0.0.1:1")
	if code == 0 || !strings.Contains(errs, "holds simulated candles") {
		t.Fatalf("live run on the copy of a simulation: exit %d: %s", code, errs)
	}
}

// addGaps records a resolved and an open gap in the SQLite file.
func addGaps(t *testing.T, file string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, g := range []store.Gap{
		{Market: market.Default, From: 0, To: 120_000, Reason: "reconnect", Status: store.GapFilled, Filled: 2, Found: 1, Resolved: 2},
		{Market: market.Default, From: 600_000, To: 660_000, Reason: "restart", Status: store.GapFound, Found: 3},
	} {
		if _, err := st.AddGap(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
}
