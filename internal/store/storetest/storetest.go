package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

var (
	btc = market.Market{Venue: "binance", Symbol: "BTCUSDT"}
	xbt = market.Market{Venue: "bitmex", Symbol: "XBTUSD"}
)

func candle(m market.Market, open int64, closePx string, st market.State) market.Candle {
	c := market.MustDecimal(closePx)
	return market.Candle{Market: m, Interval: market.I1m, OpenTime: open, Open: c, High: c, Low: c, Close: c,
		Volume: market.MustDecimal("1.5"), Quote: market.MustDecimal("0.00000001"), Trades: 3, State: st, Source: market.SourceTrades}
}

// Run runs the conformance suite; open returns a fresh empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("UpsertRevisions", func(t *testing.T) { testUpsertRevisions(t, open(t)) })
	t.Run("BatchSurvivesBadRows", func(t *testing.T) { testBatchSurvivesBadRows(t, open(t)) })
	t.Run("RangeAndLastReconciled", func(t *testing.T) { testRange(t, open(t)) })
	t.Run("GapLedger", func(t *testing.T) { testGaps(t, open(t)) })
	t.Run("SameBinTwiceInABatch", func(t *testing.T) { testSameBinTwice(t, open(t)) })
	t.Run("LargeMixedBatch", func(t *testing.T) { testLargeBatch(t, open(t)) })
	t.Run("ConnectLog", func(t *testing.T) { testConnects(t, open(t)) })
	t.Run("SequenceAndSince", func(t *testing.T) { testSequence(t, open(t)) })
	t.Run("WriteDerived", func(t *testing.T) { testWriteDerived(t, open(t)) })
	t.Run("Unrolled", func(t *testing.T) { testUnrolled(t, open(t)) })
	t.Run("Before", func(t *testing.T) { testBefore(t, open(t)) })
	t.Run("DeleteBefore", func(t *testing.T) { testDeleteBefore(t, open(t)) })
	t.Run("ClaimOrigin", func(t *testing.T) { testClaimOrigin(t, open(t)) })
}

// testSequence: every stored change gets the next sequence number across
// markets; Since returns a series' rows changed after a cursor, in
// sequence order, each bin once with its current revision; Latest returns
// the newest bins oldest first.
func testSequence(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Numbers carry the epoch: an empty store's head is its first.
	h0 := s.Epoch() << store.EpochShift
	if h, err := s.Head(ctx); err != nil || h != h0 || s.Epoch() < 0 || s.Epoch() > store.MaxEpoch {
		t.Fatalf("empty store head = %d, %v; epoch %d", h, err, s.Epoch())
	}
	if floor, head, err := s.Window(ctx); err != nil || floor > h0 || head != h0 {
		t.Fatalf("empty store window = %d..%d, %v", floor, head, err)
	}
	r := upsert(t, s, candle(btc, 0, "1", market.Closed), candle(xbt, 0, "1", market.Closed), candle(btc, 60_000, "1", market.Provisional))
	if len(r.Changed) != 3 || r.Changed[0].Seq != h0+1 || r.Changed[1].Seq != h0+2 || r.Changed[2].Seq != h0+3 {
		t.Fatalf("sequence numbers %+v", r.Changed)
	}
	upsert(t, s, candle(btc, 60_000, "1", market.Provisional)) // unchanged: no new number
	r = upsert(t, s, candle(btc, 0, "2", market.Reconciled))   // a correction of the first bin
	if r.Changed[0].Seq != h0+4 {
		t.Fatalf("correction seq = %d, want %d", r.Changed[0].Seq, h0+4)
	}
	if h, _ := s.Head(ctx); h != h0+4 {
		t.Fatalf("head = %d, want %d", h, h0+4)
	}
	got, err := s.Since(ctx, []market.Series{{Market: btc, Interval: market.I1m}}, h0+1, 10)
	if err != nil || len(got) != 2 || got[0].OpenTime != 60_000 || got[1].OpenTime != 0 || got[1].Close.String() != "2" || got[1].Seq != h0+4 {
		t.Fatalf("Since(1) = %+v, %v", got, err)
	}
	if got, _ := s.Since(ctx, []market.Series{{Market: btc, Interval: market.I1m}}, h0, 1); len(got) != 1 || got[0].Seq != h0+3 {
		t.Fatalf("Since(0, limit 1) = %+v", got)
	}
	if got, _ := s.Since(ctx, []market.Series{{Market: btc, Interval: market.I1m}, {Market: xbt, Interval: market.I1m}}, h0+4, 10); len(got) != 0 {
		t.Fatalf("Since(head) = %+v", got)
	}
	both := []market.Series{{Market: btc, Interval: market.I1m}, {Market: xbt, Interval: market.I1m}}
	if got, _ := s.Since(ctx, both, h0, 3); len(got) != 3 || got[0].Seq != h0+2 || got[1].Seq != h0+3 || got[2].Seq != h0+4 {
		t.Fatalf("Since over two series = %+v, want seqs 2, 3, 4 across them", got)
	}
	upsert(t, s, candle(btc, 120_000, "3", market.Provisional))
	latest, err := s.Latest(ctx, btc, market.I1m, 2)
	if err != nil || len(latest) != 2 || latest[0].OpenTime != 60_000 || latest[1].OpenTime != 120_000 {
		t.Fatalf("Latest(2) = %+v, %v", latest, err)
	}
}

// testConnects: attempts are kept per venue, returned from a time on,
// oldest first, and forgotten after store.KeepConnects.
func testConnects(t *testing.T, s store.Store) {
	ctx := context.Background()
	cl := s
	base := time.UnixMilli(1_700_000_000_000)
	for _, at := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		if err := cl.AddConnect(ctx, "bitmex", base.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.AddConnect(ctx, "binance", base); err != nil {
		t.Fatal(err)
	}
	got, err := cl.Connects(ctx, "bitmex", base.Add(30*time.Second))
	if err != nil || len(got) != 2 || !got[0].Equal(base.Add(time.Minute)) || !got[1].Equal(base.Add(2*time.Minute)) {
		t.Fatalf("Connects = %v, %v", got, err)
	}
	if err := cl.AddConnect(ctx, "bitmex", base.Add(store.KeepConnects+90*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := cl.Connects(ctx, "bitmex", time.Time{}); len(got) != 2 {
		t.Fatalf("after a day: %v, want the two newest", got)
	}
}

// testSameBinTwice: versions of one bin within one batch merge in order,
// each raising the revision.
func testSameBinTwice(t *testing.T, s store.Store) {
	r := upsert(t, s, candle(btc, 60_000, "10", market.Provisional), candle(btc, 60_000, "11", market.Provisional),
		candle(btc, 60_000, "11", market.Provisional), candle(btc, 60_000, "12", market.Reconciled))
	if len(r.Changed) != 3 || r.Unchanged != 1 || r.Changed[2].Rev != 3 {
		t.Fatalf("result %+v", r)
	}
	got, err := s.Candles(context.Background(), btc, market.I1m, 0, 1<<62)
	if err != nil || len(got) != 1 || got[0].Rev != 3 || got[0].Close.String() != "12" || got[0].State != market.Reconciled {
		t.Fatalf("stored %+v, %v", got, err)
	}
}

// testLargeBatch: a batch of thousands of rows over several markets and
// intervals, half of them revisions of stored rows, is stored exactly.
func testLargeBatch(t *testing.T, s store.Store) {
	const n = 1500
	var first, second []market.Candle
	for i := range n {
		m := []market.Market{btc, xbt}[i%2]
		first = append(first, candle(m, int64(i)*60_000, "1", market.Provisional))
		second = append(second, candle(m, int64(i+n/2)*60_000, "2", market.Closed))
	}
	upsert(t, s, first...)
	r := upsert(t, s, second...)
	if len(r.Changed) != n {
		t.Fatalf("second batch changed %d rows, want %d", len(r.Changed), n)
	}
	for _, m := range []market.Market{btc, xbt} {
		got, err := s.Candles(context.Background(), m, market.I1m, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		revised := 0
		for _, c := range got {
			if c.Rev == 2 {
				revised++
			}
		}
		// Per market: n/2 bins in each batch, n/4 of them in both.
		if len(got) != 3*n/4 || revised != n/4 {
			t.Fatalf("%s: %d rows stored, %d revised; want %d and %d", m, len(got), revised, 3*n/4, n/4)
		}
	}
}

func upsert(t *testing.T, s store.Store, cs ...market.Candle) store.Result {
	t.Helper()
	r, err := s.Upsert(context.Background(), cs)
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	return r
}

func testUpsertRevisions(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := upsert(t, s, candle(btc, 60_000, "10", market.Provisional))
	if len(r.Changed) != 1 || r.Changed[0].Rev != 1 {
		t.Fatalf("insert: %+v", r)
	}
	if r = upsert(t, s, candle(btc, 60_000, "10", market.Provisional)); len(r.Changed) != 0 || r.Unchanged != 1 {
		t.Fatalf("replay changed something: %+v", r)
	}
	r = upsert(t, s, candle(btc, 60_000, "11", market.Closed))
	if len(r.Changed) != 1 || r.Changed[0].Rev != 2 {
		t.Fatalf("update: %+v", r)
	}
	venue := candle(btc, 60_000, "12", market.Reconciled)
	venue.Source = market.SourceKline
	if r = upsert(t, s, venue); len(r.Changed) != 1 || r.Changed[0].Rev != 3 {
		t.Fatalf("reconcile: %+v", r)
	}
	if r = upsert(t, s, candle(btc, 60_000, "13", market.Closed)); r.Stale != 1 || len(r.Changed) != 0 {
		t.Fatalf("stale write accepted: %+v", r)
	}
	got, err := s.Candles(ctx, btc, market.I1m, 0, 120_000)
	if err != nil || len(got) != 1 {
		t.Fatalf("Candles = %v, %v", got, err)
	}
	g := got[0]
	if g.Rev != 3 || g.State != market.Reconciled || g.Close.String() != "12" || g.Source != market.SourceKline ||
		g.Quote.String() != "0.00000001" || g.Trades != 3 || g.Updated == 0 {
		t.Fatalf("stored %+v", g)
	}
}

func testBatchSurvivesBadRows(t *testing.T, s store.Store) {
	bad := candle(btc, 60_001, "1", market.Provisional) // unaligned
	dup1 := candle(btc, 120_000, "1", market.Provisional)
	dup2 := candle(btc, 120_000, "2", market.Closed) // same key twice in one batch
	ok := candle(xbt, 60_000, "5", market.Reconciled)
	r := upsert(t, s, bad, dup1, dup2, ok)
	if len(r.Invalid) != 1 || len(r.Changed) != 3 {
		t.Fatalf("result %+v", r)
	}
	got, _ := s.Candles(context.Background(), btc, market.I1m, 0, 1e12)
	if len(got) != 1 || got[0].Rev != 2 || got[0].Close.String() != "2" {
		t.Fatalf("stored %+v", got)
	}
}

func testRange(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, ok, err := s.LastReconciled(ctx, btc, market.I1m); ok || err != nil {
		t.Fatalf("empty store has a reconciled candle: %v", err)
	}
	for i := int64(0); i < 10; i++ {
		st := market.Reconciled
		if i >= 7 {
			st = market.Closed
		}
		upsert(t, s, candle(btc, i*60_000, "1", st))
	}
	got, err := s.Candles(ctx, btc, market.I1m, 120_000, 300_000)
	if err != nil || len(got) != 3 || got[0].OpenTime != 120_000 || got[2].OpenTime != 240_000 {
		t.Fatalf("range = %v, %v", got, err)
	}
	var paged []market.Candle
	for from := int64(0); ; {
		page, err := s.Page(ctx, btc, market.I1m, from, 1<<62, 4)
		if err != nil || len(page) > 4 {
			t.Fatalf("Page = %d rows, %v", len(page), err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		from = page[len(page)-1].OpenTime + 60_000
	}
	if len(paged) != 10 || paged[9].OpenTime != 9*60_000 {
		t.Fatalf("paging read %d rows", len(paged))
	}
	last, ok, err := s.LastReconciled(ctx, btc, market.I1m)
	if err != nil || !ok || last != 6*60_000 {
		t.Fatalf("LastReconciled = %d %v %v", last, ok, err)
	}
	if other, _ := s.Candles(ctx, xbt, market.I1m, 0, 1e12); len(other) != 0 {
		t.Fatalf("markets leak: %v", other)
	}
}

func testGaps(t *testing.T, s store.Store) {
	ctx := context.Background()
	g, err := s.AddGap(ctx, store.Gap{Market: btc, From: 60_000, To: 240_000, Reason: "reconnect", Status: store.GapFound, Found: 5})
	if err != nil || g.ID == 0 || g.Minutes() != 3 {
		t.Fatalf("AddGap = %+v, %v", g, err)
	}
	g.Status, g.Filled, g.Resolved, g.Detail = store.GapFilled, 3, 9, "ok"
	if err := s.UpdateGap(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddGap(ctx, store.Gap{Market: xbt, From: 0, To: 60_000, Status: store.GapFound}); err != nil {
		t.Fatal(err)
	}
	gs, err := s.Gaps(ctx, btc, 0, 1e12)
	if err != nil || len(gs) != 1 || gs[0] != g {
		t.Fatalf("Gaps = %+v, %v; want %+v", gs, err, g)
	}
	if gs, _ := s.Gaps(ctx, btc, 240_000, 1e12); len(gs) != 0 {
		t.Fatalf("non-overlapping gaps returned: %+v", gs)
	}
}

// rollup derives the parent bins of the changed 1m candles in the
// simplest way (copying the newest 1m values), enough to see what Write
// stores.
func rollup(ctx context.Context, r store.Reader, changed []market.Candle) ([]market.Candle, error) {
	var out []market.Candle
	for _, c := range changed {
		for _, iv := range c.Interval.Parents() {
			if c.Interval != market.I1m {
				continue
			}
			open := iv.Truncate(c.OpenTime)
			parts, err := r.Candles(ctx, c.Market, market.I1m, open, open+iv.Millis())
			if err != nil {
				return nil, err
			}
			p := parts[len(parts)-1] // the batch's own rows are visible
			p.Interval, p.OpenTime, p.State = iv, open, market.Provisional
			out = append(out, p)
		}
	}
	return out, nil
}

// testWriteDerived: Write stores a batch and what derive returns in one
// go, sees the batch inside derive, and stores nothing when derive fails.
func testWriteDerived(t *testing.T, s store.Store) {
	ctx := context.Background()
	res, derived, err := s.Write(ctx, []market.Candle{candle(btc, 180_000, "7", market.Closed)}, rollup)
	if err != nil || len(res.Changed) != 1 || len(derived.Changed) != 2 || derived.Changed[0].Close.String() != "7" {
		t.Fatalf("Write = %+v, %+v, %v", res, derived, err)
	}
	if derived.Changed[0].Seq <= res.Changed[0].Seq {
		t.Fatalf("derived seq %d not after the batch's %d", derived.Changed[0].Seq, res.Changed[0].Seq)
	}
	fail := func(context.Context, store.Reader, []market.Candle) ([]market.Candle, error) {
		return nil, errors.New("no")
	}
	if _, _, err := s.Write(ctx, []market.Candle{candle(btc, 240_000, "8", market.Closed)}, fail); err == nil {
		t.Fatal("Write with a failing derive succeeded")
	}
	if got, _ := s.Candles(ctx, btc, market.I1m, 240_000, 300_000); len(got) != 0 {
		t.Fatalf("a failed Write stored %+v", got)
	}
	if head, _ := s.Head(ctx); head != derived.Changed[1].Seq {
		t.Fatalf("head %d after a failed Write, want %d", head, derived.Changed[1].Seq)
	}
}

// testUnrolled: candles whose coarser bin is missing or older are listed
// (from the given open time on); rolled-up ones are not. (The test's
// rollup builds only the 1m rows' parents, so only 1m rows are checked.)
func testUnrolled(t *testing.T, s store.Store) {
	ctx := context.Background()
	unrolled := func(m market.Market, from int64) []market.Candle {
		t.Helper()
		all, err := s.Unrolled(ctx, m, from)
		if err != nil {
			t.Fatal(err)
		}
		var out []market.Candle
		for _, c := range all {
			if c.Interval == market.I1m {
				out = append(out, c)
			}
		}
		return out
	}
	if _, _, err := s.Write(ctx, []market.Candle{candle(btc, 0, "1", market.Closed)}, rollup); err != nil {
		t.Fatal(err)
	}
	if got := unrolled(btc, 0); len(got) != 0 {
		t.Fatalf("Unrolled after a rolled-up write = %+v", got)
	}
	s.Upsert(ctx, []market.Candle{candle(btc, 60_000, "2", market.Closed), candle(btc, 600_000, "3", market.Closed)})
	if got := unrolled(btc, 60_000); len(got) != 2 || got[0].OpenTime+got[1].OpenTime != 660_000 {
		t.Fatalf("Unrolled = %+v; want the two 1m rows stored without rollups", got)
	}
	if got := unrolled(btc, 120_000); len(got) != 1 || got[0].OpenTime != 600_000 {
		t.Fatalf("Unrolled from 120000 = %+v; want only the row at 600000", got)
	}
	if got := unrolled(xbt, 0); len(got) != 0 {
		t.Fatalf("Unrolled of another market = %+v", got)
	}
}

// testBefore: the newest n candles before an open time, oldest first.
func testBefore(t *testing.T, s store.Store) {
	ctx := context.Background()
	s.Upsert(ctx, []market.Candle{candle(btc, 0, "1", market.Closed), candle(btc, 60_000, "2", market.Closed),
		candle(btc, 600_000, "3", market.Closed), candle(xbt, 120_000, "4", market.Closed)})
	cases := []struct {
		to    int64
		n     int
		opens []int64
	}{
		{600_000, 2, []int64{0, 60_000}},
		{600_000, 1, []int64{60_000}},
		{1 << 62, 1, []int64{600_000}},
		{1 << 62, 5, []int64{0, 60_000, 600_000}},
		{0, 5, nil},
	}
	for _, c := range cases {
		got, err := s.Before(ctx, btc, market.I1m, c.to, c.n)
		var opens []int64
		for _, g := range got {
			opens = append(opens, g.OpenTime)
		}
		if err != nil || fmt.Sprint(opens) != fmt.Sprint(c.opens) {
			t.Errorf("Before(%d, %d) = %v, %v; want %v", c.to, c.n, opens, err, c.opens)
		}
	}
}
