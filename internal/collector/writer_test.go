package collector

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// flakyStore fails writes while broken is set; during, when set, runs
// inside a write, as a Put that comes while the write waits.
type flakyStore struct {
	*store.Memory
	broken bool
	during func()
}

func (f *flakyStore) Write(ctx context.Context, cs []market.Candle, d store.Derive) (store.Result, store.Result, error) {
	if f.during != nil {
		f.during()
	}
	if f.broken {
		return store.Result{}, store.Result{}, errors.New("disk on fire")
	}
	return f.Memory.Write(ctx, cs, d)
}

func bin(open int64, px string, st market.State) market.Candle {
	p := market.MustDecimal(px)
	return market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: open, Open: p, High: p, Low: p, Close: p, State: st}
}

func TestWriterConflatesAndKeepsBatchesOnFailure(t *testing.T) {
	st := &flakyStore{Memory: store.NewMemory(nil), broken: true}
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), time.Hour)
	w.Put(bin(0, "1", market.Provisional), bin(0, "2", market.Provisional), bin(60_000, "5", market.Reconciled))
	w.Put(bin(60_000, "6", market.Closed)) // earlier in the lifecycle than the queued version: ignored
	if err := w.Flush(context.Background()); err == nil {
		t.Fatal("flush into a broken store succeeded")
	}
	st.broken = false
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Candles(context.Background(), market.Default, market.I1m, 0, 1e12)
	if len(got) != 2 || got[0].Close.String() != "2" || got[0].Rev != 1 || got[1].Close.String() != "5" {
		t.Fatalf("stored %+v; want the latest version of each bin, once", got)
	}
}

// TestWriterQueueMergesAsTheStore: a version the store would refuse after
// the queued one (a forming 1m version built from less of its bin, as a
// venue's forming kline runs ahead of its trades; a trade-built version
// after the venue's final, as from a feed started again on the market)
// does not replace it in the queue, also when it comes while a write of
// the queued one fails; one the store would take does: what is stored
// does not depend on where the flushes fall, nor on a failed write between.
func TestWriterQueueMergesAsTheStore(t *testing.T) {
	ahead, behind := bin(0, "1", market.Provisional), bin(0, "2", market.Provisional)
	ahead.Volume, ahead.Trades = market.MustDecimal("9835"), 34
	behind.Volume, behind.Trades = market.MustDecimal("9816"), 37
	final, partial := bin(0, "3", market.Reconciled), bin(0, "4", market.Provisional)
	final.Volume, partial.Volume = market.MustDecimal("9944"), market.MustDecimal("9849")
	for _, tc := range []struct {
		first, then, want market.Candle
	}{
		{ahead, behind, ahead},
		{behind, ahead, ahead},
		{final, partial, final},
		{partial, final, final},
	} {
		for _, between := range []string{"nothing", "a flush", "a failed flush"} {
			st := &flakyStore{Memory: store.NewMemory(nil)}
			w := NewWriter(st, nil, discardLogger(), metrics.Discard(), time.Hour)
			w.Put(tc.first)
			switch between {
			case "a flush":
				if err := w.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			case "a failed flush":
				st.broken, st.during = true, func() { w.Put(tc.then) }
				if err := w.Flush(context.Background()); err == nil {
					t.Fatal("flush into a broken store succeeded")
				}
				st.broken, st.during = false, nil
			}
			if between != "a failed flush" {
				w.Put(tc.then)
			}
			if err := w.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, _ := st.Candles(context.Background(), market.Default, market.I1m, 0, 1e12)
			if len(got) != 1 || !got[0].Volume.Equal(tc.want.Volume) || got[0].State != tc.want.State {
				t.Fatalf("%s %s, then %s %s with %s between: stored %+v; want the %s one", tc.first.State, tc.first.Volume,
					tc.then.State, tc.then.Volume, between, got, tc.want.Volume)
			}
		}
	}
}

func TestWriterPutDoesNotBlockWhenDraining(t *testing.T) {
	st := &flakyStore{Memory: store.NewMemory(nil), broken: true}
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), time.Hour)
	w.maxPending = 1
	w.Put(bin(0, "1", market.Provisional))
	done := make(chan struct{})
	go func() { w.Put(bin(60_000, "1", market.Provisional)); close(done) }()
	select {
	case <-done:
		t.Fatal("Put did not apply backpressure on a full queue")
	case <-time.After(50 * time.Millisecond):
	}
	w.drain()
	<-done
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestMissing(t *testing.T) {
	t.Parallel()
	const m = 60_000
	rec := func(ts ...int64) (out []market.Candle) {
		for _, x := range ts {
			out = append(out, bin(x*m, "1", market.Reconciled))
		}
		return out
	}
	closed := bin(3*m, "1", market.Closed)
	cases := []struct {
		name string
		rows []market.Candle
		want [][2]int64
	}{
		{"none stored", nil, [][2]int64{{0, 6 * m}}},
		{"all reconciled", rec(0, 1, 2, 3, 4, 5), nil},
		{"two runs", rec(0, 2, 3, 5), [][2]int64{{1 * m, 2 * m}, {4 * m, 5 * m}}},
		{"closed is not enough", append(rec(0, 1, 2, 4, 5), closed), [][2]int64{{3 * m, 4 * m}}},
		{"tail", rec(0, 1), [][2]int64{{2 * m, 6 * m}}},
	}
	for _, c := range cases {
		got := Missing(c.rows, 0, 6*m, nil)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
}

// failingREST fails until ok is set, then returns reconciled minutes.
type failingREST struct{ ok bool }

func (f *failingREST) Candles(_ context.Context, m market.Market, from, to int64, _ func(int64)) ([]market.Candle, error) {
	if !f.ok {
		return nil, &upstream.StatusError{Status: 503, Body: "down"}
	}
	var out []market.Candle
	for t := from; t < to; t += 60_000 {
		out = append(out, bin(t, "1", market.Reconciled))
	}
	return out, nil
}

// TestRetriedGapKeepsOneLedgerRow repairs the same range while REST fails
// and again once it works: one ledger row, `found` (with REST's error)
// until it is filled, first found time kept; the watermark holds until
// then; the gap is counted found once and resolved once.
func TestRetriedGapKeepsOneLedgerRow(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	rest := &failingREST{}
	c := &Collector{cfg: Config{Store: st, MaxRepair: time.Hour}, log: discardLogger(), met: metrics.New(prometheus.NewRegistry())}
	c.writer = NewWriter(st, nil, c.log, c.met, time.Hour)
	r := &repairer{c: c, v: Venue{REST: rest}, mark: map[market.Market]int64{}, log: discardLogger()}
	req := repairReq{m: market.Default, reason: "reconnect", upTo: 3 * 60_000, first: 60_000}
	for i, ok := range []bool{false, false, true} {
		rest.ok = ok
		if err := r.repair(ctx, req); err != nil {
			t.Fatal(err)
		}
		gaps, _ := st.Gaps(ctx, market.Default, 0, 1<<62)
		if len(gaps) != 1 {
			t.Fatalf("attempt %d: %d ledger rows, want 1: %+v", i, len(gaps), gaps)
		}
		want, detail := store.GapFound, "HTTP 503: down"
		if ok {
			want, detail = store.GapFilled, ""
		}
		if gaps[0].Status != want || gaps[0].Detail != detail || (ok && gaps[0].Filled != 2) {
			t.Fatalf("attempt %d: %+v", i, gaps[0])
		}
		if mark := r.mark[market.Default]; (ok && mark != 3*60_000) || (!ok && mark != 60_000) {
			t.Fatalf("attempt %d: watermark %d", i, mark)
		}
	}
	if found, resolved := counted(t, c.met); found != 1 || resolved != 1 {
		t.Fatalf("gaps found %v, resolved %v; want 1 and 1", found, resolved)
	}
}

// brokenREST answers every minute, the second with high below low.
type brokenREST struct{}

func (brokenREST) Candles(_ context.Context, m market.Market, from, to int64, _ func(int64)) ([]market.Candle, error) {
	var out []market.Candle
	for t := from; t < to; t += 60_000 {
		c := bin(t, "1", market.Reconciled)
		if t == from+60_000 {
			c.High = market.MustDecimal("0.5")
		}
		out = append(out, c)
	}
	return out, nil
}

// TestRepairCountsWhatWasStored: a minute the venue answers with an
// invalid candle is not counted filled: the gap is partial, says why, and
// the minute is not stored.
func TestRepairCountsWhatWasStored(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	c := &Collector{cfg: Config{Store: st, MaxRepair: time.Hour}, log: discardLogger(), met: metrics.New(prometheus.NewRegistry())}
	c.writer = NewWriter(st, nil, c.log, c.met, time.Hour)
	r := &repairer{c: c, v: Venue{REST: brokenREST{}}, mark: map[market.Market]int64{}, log: discardLogger()}
	if err := r.repair(ctx, repairReq{m: market.Default, reason: "reconnect", upTo: 4 * 60_000, first: 60_000}); err != nil {
		t.Fatal(err)
	}
	gaps, _ := st.Gaps(ctx, market.Default, 0, 1<<62)
	if len(gaps) != 1 || gaps[0].Status != store.GapPartial || gaps[0].Filled != 2 || !strings.Contains(gaps[0].Detail, "1 of the venue's candles invalid") {
		t.Fatalf("gaps %+v; want one partial gap, 2 of its 3 minutes filled, saying why", gaps)
	}
	if got, _ := st.Candles(ctx, market.Default, market.I1m, 0, 1<<40); len(got) != 2 {
		t.Fatalf("%d minutes stored, want the 2 valid ones", len(got))
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	st := store.NewMemory(nil)
	ms := []market.Market{market.Default}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no store", Config{}},
		{"venue without a feed", Config{Store: st, Venues: []Venue{{Name: "x", REST: &failingREST{}, Markets: ms}}}},
		{"venue without REST", Config{Store: st, Venues: []Venue{{Name: "x", Markets: ms}}}},
	}
	for _, c := range cases {
		if _, err := New(c.cfg); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// TestLedgerSettlesWhatTheLiveFeedFilled leaves a gap found (REST down),
// lets the live feed store the minutes, and repairs again with REST still
// down: the entry must be marked filled, saying by what, once.
func TestLedgerSettlesWhatTheLiveFeedFilled(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	c := &Collector{cfg: Config{Store: st, MaxRepair: time.Hour}, log: discardLogger(), met: metrics.New(prometheus.NewRegistry())}
	c.writer = NewWriter(st, nil, c.log, c.met, time.Hour)
	r := &repairer{c: c, v: Venue{REST: &failingREST{}}, mark: map[market.Market]int64{}, log: discardLogger()}
	req := repairReq{m: market.Default, reason: "reconnect", upTo: 3 * 60_000, first: 60_000}
	if err := r.repair(ctx, req); err != nil {
		t.Fatal(err)
	}
	st.Upsert(ctx, []market.Candle{bin(60_000, "1", market.Reconciled), bin(120_000, "1", market.Reconciled)})
	if err := r.repair(ctx, req); err != nil {
		t.Fatal(err)
	}
	gaps, _ := st.Gaps(ctx, market.Default, 0, 1<<62)
	if len(gaps) != 1 || gaps[0].Status != store.GapFilled || gaps[0].Filled != 0 || gaps[0].Detail != "reconciled later by the live feed" {
		t.Fatalf("ledger %+v; want one entry settled as filled by the live feed", gaps)
	}
	if found, resolved := counted(t, c.met); found != 1 || resolved != 1 {
		t.Fatalf("gaps found %v, resolved %v; want 1 and 1", found, resolved)
	}
}

// countingStore counts the writes that reach the store.
type countingStore struct {
	*store.Memory
	writes atomic.Int64
}

func (c *countingStore) Write(ctx context.Context, cs []market.Candle, d store.Derive) (store.Result, store.Result, error) {
	c.writes.Add(1)
	return c.Memory.Write(ctx, cs, d)
}

// TestWriterFlushesOncePerPeriod: under a steady stream of Puts the writer
// writes at most once a period (each flush is a transaction, and a flush
// of what came during the previous one's write is one too many), and the
// last version Put is stored when it stops.
func TestWriterFlushesOncePerPeriod(t *testing.T) {
	const every = 20 * time.Millisecond
	st := &countingStore{Memory: store.NewMemory(nil)}
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), every)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	start := time.Now()
	var px int
	for time.Since(start) < 30*every {
		px++
		w.Put(bin(0, strconv.Itoa(px), market.Provisional))
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Periods begin at most once each `every`, plus the final flush.
	if most := int64(elapsed/every) + 2; st.writes.Load() > most {
		t.Fatalf("%d writes in %v; want at most %d, one a period of %v", st.writes.Load(), elapsed, most, every)
	}
	got, _ := st.Candles(context.Background(), market.Default, market.I1m, 0, 1)
	if len(got) != 1 || got[0].Close.String() != strconv.Itoa(px) {
		t.Fatalf("stored %+v; want the last version, close %d", got, px)
	}
}

// TestWriterHoldsFormingBins: the writer's own flushes, and a repair's
// (FlushDue), write a forming bin's first version at once and later ones
// at most once a hold, the newest then; a closed version is not held,
// nor a new bin; Flush writes everything.
func TestWriterHoldsFormingBins(t *testing.T) {
	ctx := context.Background()
	other := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	otherBin := func(px string) market.Candle { c := bin(0, px, market.Provisional); c.Market = other; return c }
	stored := func(st *store.Memory, m market.Market, open int64) string {
		got, _ := st.Candles(ctx, m, market.I1m, open, open+1)
		if len(got) == 0 {
			return "none"
		}
		return got[0].Close.String() + " " + got[0].State.String()
	}
	key0, key1 := bin(0, "1", 0).Key(), bin(60_000, "1", 0).Key()
	keyOther := otherBin("1").Key()
	st := store.NewMemory(nil)
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), 10*time.Millisecond) // not run: flushed by the steps
	w.HoldForming(time.Hour)
	steps := []struct {
		name  string
		put   []market.Candle
		flush func() error
		want  map[market.Key]string
	}{
		{"first versions go out", []market.Candle{bin(0, "1", market.Provisional), otherBin("7")}, nil,
			map[market.Key]string{key0: "1 provisional", keyOther: "7 provisional"}},
		{"later ones wait", []market.Candle{bin(0, "2", market.Provisional), bin(0, "3", market.Provisional), otherBin("8")}, nil,
			map[market.Key]string{key0: "1 provisional", keyOther: "7 provisional"}},
		{"a new bin does not", []market.Candle{bin(60_000, "4", market.Provisional)}, nil,
			map[market.Key]string{key0: "1 provisional", key1: "4 provisional"}},
		{"a repair's flush holds them too", nil, nil,
			map[market.Key]string{key0: "1 provisional", keyOther: "7 provisional"}},
		{"a close is not held", []market.Candle{bin(60_000, "5", market.Provisional), bin(60_000, "6", market.Closed)}, nil,
			map[market.Key]string{key1: "6 closed", keyOther: "7 provisional"}},
		{"Flush writes everything", nil, func() error { return w.Flush(ctx) },
			map[market.Key]string{key0: "3 provisional", keyOther: "8 provisional"}},
	}
	for _, s := range steps {
		w.Put(s.put...)
		flush := s.flush
		if flush == nil {
			flush = func() error { return w.FlushDue(ctx) }
		}
		if err := flush(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for k, want := range s.want {
			if got := stored(st, k.Market, k.OpenTime); got != want {
				t.Errorf("%s: %s %d stored %q; want %q", s.name, k.Market, k.OpenTime, got, want)
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) != 0 {
		t.Errorf("queue holds %d bins after Flush", len(w.pending))
	}
}

// TestWriterWritesHeldBinsWhenTheHoldEnds: Run writes the newest version of
// a held forming bin once its hold is over, without another Put.
func TestWriterWritesHeldBinsWhenTheHoldEnds(t *testing.T) {
	const hold = 50 * time.Millisecond
	st := store.NewMemory(nil)
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), 5*time.Millisecond)
	w.HoldForming(hold)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	closeOf := func() string {
		got, _ := st.Candles(context.Background(), market.Default, market.I1m, 0, 1)
		if len(got) == 0 {
			return ""
		}
		return got[0].Close.String()
	}
	w.Put(bin(0, "1", market.Provisional))
	waitFor(t, "the first version stored", func() bool { return closeOf() == "1" })
	w.Put(bin(0, "2", market.Provisional))
	waitFor(t, "the held version stored when its hold ended", func() bool { return closeOf() == "2" })
}

// TestHoldOfOneFlushHoldsNothing: a hold no longer than the flush period
// is every flush, so a forming bin is not kept back by a flush's jitter.
func TestHoldOfOneFlushHoldsNothing(t *testing.T) {
	for _, c := range []struct{ hold, want time.Duration }{
		{-1, 0}, {0, 0}, {50 * time.Millisecond, 0}, {100 * time.Millisecond, 0}, {101 * time.Millisecond, 101 * time.Millisecond}, {time.Second, time.Second},
	} {
		w := NewWriter(store.NewMemory(nil), nil, discardLogger(), metrics.Discard(), 100*time.Millisecond)
		if w.HoldForming(c.hold); w.hold != c.want {
			t.Errorf("HoldForming(%v): hold %v; want %v", c.hold, w.hold, c.want)
		}
	}
}
