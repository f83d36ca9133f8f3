package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/market"
)

const (
	openChildEnv = "CANDLEWIRE_SQLITE_OPEN_CHILD" // the child opens the file and exits 1 with the error
	childEnv     = "CANDLEWIRE_SQLITE_KILL_CHILD"
	batchRows    = 50
)

// TestMain lets the test binary act as the writer process of TestKill9.
func TestMain(m *testing.M) {
	if path := os.Getenv(openChildEnv); path != "" {
		s, err := Open(context.Background(), path, nil)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		s.Close()
		return
	}
	if path := os.Getenv(childEnv); path != "" {
		writeForever(path)
		return
	}
	code := m.Run()
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "goroutine leak:", err)
		code = 1
	}
	os.Exit(code)
}

// writeForever upserts batches of batchRows candles, each batch tagged with
// its number in Close, until it is killed.
func writeForever(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	for i := int64(1); ; i++ {
		batch := make([]market.Candle, batchRows)
		for j := range batch {
			tag := market.MustDecimal(fmt.Sprint(i))
			batch[j] = market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: (i*batchRows + int64(j)) * 60_000,
				Open: tag, High: tag, Low: tag, Close: tag, Volume: tag, Quote: tag, Trades: i, State: market.Reconciled, Source: market.SourceREST}
		}
		if _, err := s.Upsert(ctx, batch); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		if i == 1 {
			fmt.Println("committed") // the parent kills only after this
		}
	}
}

// TestKill9 kills a writer with SIGKILL in the middle of its writes and
// checks the database: intact, and holding only whole batches.
func TestKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kill.db")
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitCommitted(t, out) // a loaded machine may take long to start it
		time.Sleep(time.Duration(100+200*round) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait() //nolint:errcheck // it was killed on purpose
		checkWholeBatches(t, path)
	}
}

// waitCommitted waits, 30 s at most, for the writer's first commit.
func waitCommitted(t *testing.T, out io.Reader) {
	t.Helper()
	line := make(chan bool, 1)
	go func() { line <- bufio.NewScanner(out).Scan() }()
	select {
	case ok := <-line:
		if !ok {
			t.Fatal("the writer ended before its first commit")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the writer committed nothing within 30 s")
	}
}

func checkWholeBatches(t *testing.T, path string) {
	t.Helper()
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	var integrity string
	if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check = %q, %v", integrity, err)
	}
	rows, err := s.db.Query(`SELECT trades, COUNT(*) FROM candles GROUP BY trades`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	batches := 0
	for rows.Next() {
		var tag, n int
		if err := rows.Scan(&tag, &n); err != nil {
			t.Fatal(err)
		}
		if n != batchRows {
			t.Fatalf("batch %d has %d rows after kill -9, want all %d or none", tag, n, batchRows)
		}
		batches++
	}
	if batches == 0 {
		t.Fatal("the writer committed nothing before it was killed")
	}
	t.Logf("%d whole batches survived", batches)
}
