package collector_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
	"github.com/candlewire/candlewire/internal/upstream"
)

// killChildEnv makes the test binary the writer process of
// TestKill9KeepsRollupsWhole.
const killChildEnv = "CANDLEWIRE_COLLECTOR_KILL_CHILD"

// writeUntilKilled stores a live-looking stream of 1m revisions (each
// minute provisional, then closed, then reconciled, its values changing)
// through a Writer, flushing after each step, until the process is killed.
func writeUntilKilled(path string) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	w := collector.NewWriter(st, nil, slog.New(slog.DiscardHandler), metrics.Discard(), time.Hour)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := int64(0); ; i++ {
		minute := i / 3
		state := []market.State{market.Provisional, market.Closed, market.Reconciled}[i%3]
		px := market.MustDecimal(fmt.Sprint(100 + rng.IntN(50)))
		w.Put(market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: minute * 60_000, Open: px, High: px,
			Low: px, Close: px, Volume: market.MustDecimal(fmt.Sprint(1 + i%7)), Trades: i, State: state, Source: market.SourceTrades})
		if err := w.Flush(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		if i == 30 {
			fmt.Println("written") // the parent kills only after this
		}
	}
}

// TestKill9KeepsRollupsWhole kills a writer with SIGKILL at random moments
// of its writes: after every kill each stored coarser bin must equal its
// rebuild from the stored finer ones (the 1m rows and their rollups are
// one transaction).
func TestKill9KeepsRollupsWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kill.db")
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !bufio.NewScanner(out).Scan() { // ten minutes written: a loaded machine may take long to start it
			t.Fatal("the writer ended before it wrote anything")
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait() //nolint:errcheck // killed on purpose
		st, err := sqlite.Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		bad := wrongRollups(t, st, market.Default)
		st.Close()
		if len(bad) > 0 {
			t.Fatalf("after kill %d: %d coarser bins differ from their constituents: %v", round+1, len(bad), bad[:min(len(bad), 5)])
		}
	}
}

func wrongRollups(t *testing.T, st store.Store, m market.Market) []string {
	return storetest.WrongRollups(t, st, m)
}

// TestStartRebuildsStaleRollups: 1m rows stored without their rollups (as
// an older version's crash between its two transactions left them) are
// found when the collector starts, and their coarser bins rebuilt.
func TestStartRebuildsStaleRollups(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := collector.NewWriter(st, nil, slog.New(slog.DiscardHandler), metrics.Discard(), time.Hour)
	var cs []market.Candle
	for i := int64(0); i < 300; i++ {
		px := market.MustDecimal(fmt.Sprint(100 + i%13))
		cs = append(cs, market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: i * 60_000, Open: px, High: px,
			Low: px, Close: px, Volume: market.MustDecimal("1"), Trades: 1, State: market.Closed, Source: market.SourceTrades})
	}
	if _, err := w.WriteNow(ctx, cs); err != nil {
		t.Fatal(err)
	}
	for i := range cs {
		if i%7 == 0 {
			cs[i].Close, cs[i].State, cs[i].Trades = market.MustDecimal("99"), market.Reconciled, 2
		}
	}
	if _, err := st.Upsert(ctx, cs); err != nil { // no rollups: the crash
		t.Fatal(err)
	}
	if bad := wrongRollups(t, st, market.Default); len(bad) == 0 {
		t.Fatal("the test's stale rollups are not stale")
	}
	runQuiet(t, st)
	if bad := wrongRollups(t, st, market.Default); len(bad) > 0 {
		t.Fatalf("%d coarser bins still stale after a start: %v", len(bad), bad[:min(len(bad), 5)])
	}
}

// quietFeed connects and sends nothing.
type quietFeed struct{}

func (quietFeed) Run(ctx context.Context, _ []market.Market, _ upstream.Sink) error {
	<-ctx.Done()
	return nil
}

// noREST has nothing for any minute.
type noREST struct{}

func (noREST) Candles(context.Context, market.Market, int64, int64, func(int64)) ([]market.Candle, error) {
	return nil, nil
}

// runQuiet runs a collector of market.Default on st with a silent feed
// until st's rollups are right, or 30 s.
func runQuiet(t *testing.T, st store.Store) {
	t.Helper()
	c, err := collector.New(collector.Config{Store: st, Venues: []collector.Venue{{Name: "binance", Feed: quietFeed{},
		REST: noREST{}, Markets: []market.Market{market.Default}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(wrongRollups(t, st, market.Default)) == 0 {
			return
		}
	}
}
