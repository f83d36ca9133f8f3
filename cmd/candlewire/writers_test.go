package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/api/apitest"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sim"
)

const (
	writersSpeed   = 30 // simulated seconds per real second
	writersSession = 8 * time.Minute
)

// TestFourWritersOnePostgres runs four `candlewire run` processes that
// collect the same 20 markets (four on each of five venues) from one
// simulator into one PostgreSQL database, through faults, while a reader
// polls the store's change log from its cursor and a WebSocket client of
// the first process follows the markets' 1m streams. Afterwards every
// minute of every market is stored once, final, and equal to the candle
// built from the simulator's trade log; and the newest version the reader,
// and the client, saw of every bin is the stored one: neither missed a
// change, whichever process wrote it.
func TestFourWritersOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("four processes for 20 s")
	}
	db := pgtest.Fresh(t)
	ms, s, base, args := simSession(t, 2028, writersSpeed, 4, db)
	var procs []*proc
	for i := range 4 {
		p := start(t, args...)
		defer keepLog(t, "writer"+string(rune('0'+i)), p)
		procs = append(procs, p)
	}
	for _, p := range procs {
		waitMarkets(t, p, ms)
	}
	rd := newReader(t, db, ms)
	var streams []string
	for _, m := range ms {
		streams = append(streams, m.String()+"@1m")
	}
	msgs := make(chan apitest.Msg, 1024)
	clientDone := make(chan struct{})
	client := map[string]apitest.Msg{} // newest message per stream and minute
	go func() {
		defer close(clientDone)
		for m := range msgs {
			if m.Type == "candle" {
				client[fmt.Sprintf("%s %d", m.Stream, m.Candle.T)] = m
			}
		}
	}()
	go func() { apitest.WS(context.Background(), "http://"+procs[0].addr, streams, 0, msgs); close(msgs) }() //nolint:errcheck // ends with the process
	begin := market.I1m.Truncate(s.Clock.Now()) + time.Minute.Milliseconds()
	waitSim(s, begin+2*time.Minute.Milliseconds())
	for _, f := range []struct {
		venue, kind string
		dur         time.Duration
	}{{"binance", sim.FaultDrop, 0}, {"binance", sim.FaultRefuse, time.Minute}, {"okx", sim.FaultDrop, 0}, {"bybit", sim.FaultSilence, 30 * time.Second}} {
		if err := s.Faults.Inject(f.venue, f.kind, f.dur); err != nil {
			t.Fatal(err)
		}
	}
	end := begin + writersSession.Milliseconds()
	waitSim(s, end+3*time.Minute.Milliseconds()) // the last finals are due
	st, err := postgres.Open(context.Background(), db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Four processes under the race detector on a loaded machine may need
	// longer for the last finals (repairs queue): wait for them, 90 s at most.
	for deadline := time.Now().Add(90 * time.Second); !allFinal(st, ms, begin, end) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	for i := len(procs) - 1; i >= 0; i-- { // the client's process last: its tail publishes the others' last writes
		procs[i].stop(t)
	}
	<-clientDone
	seen := rd.stop(t)
	for _, m := range ms {
		d, _ := registry.Lookup(m.Venue)
		t.Run(m.String(), func(t *testing.T) { checkMarket(t, st, base, d, m, begin, end) })
	}
	stored, err := st.Since(context.Background(), rd.series, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range stored {
		if got, ok := seen[c.Key()]; !ok || got.Seq != c.Seq || got.Rev != c.Rev {
			t.Errorf("%s %s %s: the reader's newest is seq %d rev %d, stored seq %d rev %d", c.Market, c.Interval,
				fmtMin(c.OpenTime), got.Seq, got.Rev, c.Seq, c.Rev)
		}
		if c.Interval != market.I1m {
			continue
		}
		if got := client[fmt.Sprintf("%s@1m %d", c.Market, c.OpenTime)]; got.Cursor != c.Seq || got.Candle.Rev != c.Rev {
			t.Errorf("%s %s: the WebSocket client's newest is cursor %d rev %d, stored seq %d rev %d", c.Market, fmtMin(c.OpenTime),
				got.Cursor, got.Candle.Rev, c.Seq, c.Rev)
		}
	}
	if len(stored) < len(ms)*int(writersSession/time.Minute) {
		t.Fatalf("%d rows stored for %d markets", len(stored), len(ms))
	}
}

// allFinal reports whether every minute of ms in [begin, end) is stored
// and reconciled.
func allFinal(st *postgres.Store, ms []market.Market, begin, end int64) bool {
	for _, m := range ms {
		cs, err := st.Candles(context.Background(), m, market.I1m, begin, end)
		if err != nil || int64(len(cs)) != (end-begin)/60_000 {
			return false
		}
		for _, c := range cs {
			if c.State != market.Reconciled {
				return false
			}
		}
	}
	return true
}

func marketList(ms []market.Market) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.String()
	}
	return strings.Join(names, ",")
}

// reader polls a store's change log from its cursor, as a gateway would,
// keeping the newest version of each bin it saw.
type reader struct {
	series []market.Series
	stopc  chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	seen   map[market.Key]market.Candle
	err    error
}

func newReader(t *testing.T, db string, ms []market.Market) *reader {
	st, err := postgres.Open(context.Background(), db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{stopc: make(chan struct{}), done: make(chan struct{}), seen: map[market.Key]market.Candle{}}
	for _, m := range ms {
		for _, iv := range market.Intervals {
			r.series = append(r.series, market.Series{Market: m, Interval: iv})
		}
	}
	go func() {
		defer close(r.done)
		defer st.Close()
		r.err = r.poll(st)
	}()
	return r
}

// poll reads changes after its cursor until stopped, then once more to
// the end.
func (r *reader) poll(st *postgres.Store) error {
	var cursor int64
	for last := false; ; {
		select {
		case <-r.stopc:
			last = true
		case <-time.After(20 * time.Millisecond):
		}
		for {
			cs, err := st.Since(context.Background(), r.series, cursor, 500)
			if err != nil {
				return err
			}
			r.mu.Lock()
			for _, c := range cs {
				cursor = c.Seq
				r.seen[c.Key()] = c
			}
			r.mu.Unlock()
			if len(cs) < 500 {
				break
			}
		}
		if last {
			return nil
		}
	}
}

func (r *reader) stop(t *testing.T) map[market.Key]market.Candle {
	close(r.stopc)
	<-r.done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.seen
}

// simSession is the setting of a multi-process test: perVenue markets of
// each venue that does not refill, a simulator of them at speed (closed
// when the test ends) at base, and run's arguments for them on db.
func simSession(t *testing.T, seed uint64, speed float64, perVenue int, db string) (ms []market.Market, s *sim.Server,
	base string, args []string) {
	t.Helper()
	venues := drivers(func(d exchange.Driver) bool { return !d.Refills })
	for _, d := range venues {
		for i := range perVenue {
			ms = append(ms, market.Market{Venue: d.Name, Symbol: d.Sim.BenchSymbol(i)})
		}
	}
	s = sim.New(sim.Config{Seed: seed, Speed: speed})
	registry.MountSims(s)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	args = runArgs(t, t.TempDir(), db, srv.URL, venues)
	args[slices.Index(args, "--markets")+1] = marketList(ms)
	return ms, s, srv.URL, args
}
