package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// counted returns the gaps of market.Default found and resolved (any
// final status) by this collector's metrics.
func counted(t *testing.T, met *metrics.Metrics) (found, resolved float64) {
	t.Helper()
	found = testutil.ToFloat64(met.GapsFound.WithLabelValues(market.Default.String()))
	for _, s := range []store.GapStatus{store.GapFilled, store.GapPartial, store.GapUnfillable} {
		resolved += testutil.ToFloat64(met.GapsFilled.WithLabelValues(market.Default.String(), string(s)))
	}
	return found, resolved
}

// newTestCollector is a collector over st with repair fetching from rest
// and real metrics; it runs nothing.
func newTestCollector(st store.Store, rest Fetcher) (*Collector, *repairer) {
	c := &Collector{cfg: Config{Store: st, MaxRepair: 24 * time.Hour, Logger: discardLogger()}, log: discardLogger(), met: metrics.New(prometheus.NewRegistry())}
	c.writer = NewWriter(st, nil, c.log, c.met, time.Hour)
	r, err := newRepairer(context.Background(), c, Venue{REST: rest, Markets: []market.Market{market.Default}})
	if err != nil {
		panic(err)
	}
	r.log = discardLogger()
	return c, r
}

const min1 = int64(60_000)

// TestHeldRepairIsTakenUpAfterRestart: minute 5's final never came, its
// overdue repair was held by REST failing, and the process died. The live
// feed had reconciled later minutes, so the newest reconciled minute is
// past 5. A new process with REST healthy must repair minute 5 and finish
// the ledger entry the first one left found.
func TestHeldRepairIsTakenUpAfterRestart(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	var live []market.Candle
	for m := int64(1); m <= 9; m++ {
		state := market.Reconciled
		if m == 5 {
			state = market.Closed // built from trades; the venue's final was withheld
		}
		live = append(live, bin(m*min1, "1", state))
	}
	st.Upsert(ctx, live)
	_, first := newTestCollector(st, &failingREST{})
	first.mark[market.Default] = 5 * min1
	if err := first.repair(ctx, repairReq{m: market.Default, reason: "overdue", upTo: 6 * min1, first: min1}); err != nil {
		t.Fatal(err)
	}
	// kill -9: the first process's memory is gone; the store is all that is left.
	c, second := newTestCollector(st, &failingREST{ok: true})
	if err := second.repair(ctx, repairReq{m: market.Default, reason: "restart", upTo: 12 * min1, first: 11 * min1}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Candles(ctx, market.Default, market.I1m, 5*min1, 6*min1)
	if len(got) != 1 || got[0].State != market.Reconciled {
		t.Fatalf("minute 5 after the restart: %+v; want it reconciled from REST", got)
	}
	gaps, _ := st.Gaps(ctx, market.Default, 0, 1<<62)
	for _, g := range gaps {
		if g.Status == store.GapFound {
			t.Errorf("ledger entry left found after the restart's repair: %+v", g)
		}
	}
	if len(gaps) == 0 || gaps[0].From != 5*min1 || gaps[0].Reason != "overdue" || gaps[0].Status != store.GapFilled {
		t.Fatalf("ledger %+v; want the held overdue gap of minute 5 filled", gaps)
	}
	if found, resolved := counted(t, c.met); resolved != float64(len(gaps)) || found != resolved {
		t.Fatalf("the new process found %v and resolved %v gaps, want each of the %d once (the held one taken up as found)", found, resolved, len(gaps))
	}
}

// TestCoveredGapSaysSo: a reconnect gap is left found (REST down); later a
// restart gap over a wider range fills the same minutes. The reconnect gap
// must reach filled, saying it was covered, and every gap is resolved once.
func TestCoveredGapSaysSo(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	st.Upsert(ctx, []market.Candle{bin(min1, "1", market.Reconciled)})
	c, r := newTestCollector(st, &failingREST{})
	if err := r.repair(ctx, repairReq{m: market.Default, reason: "reconnect", upTo: 5 * min1, first: min1}); err != nil {
		t.Fatal(err)
	}
	// The reconnect gap [2,5) is held. Minute 2 arrives live; then the
	// process restarts and REST answers again.
	st.Upsert(ctx, []market.Candle{bin(2*min1, "1", market.Reconciled)})
	r.v.REST = &failingREST{ok: true}
	if err := r.repair(ctx, repairReq{m: market.Default, reason: "restart", upTo: 8 * min1, first: 7 * min1}); err != nil {
		t.Fatal(err)
	}
	gaps, _ := st.Gaps(ctx, market.Default, 0, 1<<62)
	if len(gaps) != 2 {
		t.Fatalf("ledger %+v; want the reconnect gap and the restart gap", gaps)
	}
	rc, rs := gaps[0], gaps[1]
	if rs.Reason != "restart" || rs.Status != store.GapFilled || rs.From != 3*min1 || rs.To != 8*min1 {
		t.Fatalf("restart gap %+v; want [3,8) filled", rs)
	}
	if rc.Reason != "reconnect" || rc.Status != store.GapFilled || rc.Detail == "" || rc.Detail[:8] != "covered " {
		t.Fatalf("reconnect gap %+v; want filled, covered by the restart gap", rc)
	}
	if found, resolved := counted(t, c.met); found != 2 || resolved != 2 {
		t.Fatalf("gaps found %v, resolved %v; want each of the 2 once", found, resolved)
	}
}

// emptyREST answers without error and without data, as a venue that has
// nothing for the minutes.
type emptyREST struct{}

func (emptyREST) Candles(context.Context, market.Market, int64, int64, func(int64)) ([]market.Candle, error) {
	return nil, nil
}

// TestUnfillableIsFinal: a gap the venue has no data for is unfillable,
// once: later repairs neither fetch it again nor resolve it again, even
// when its minute arrives after all.
func TestUnfillableIsFinal(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	st.Upsert(ctx, []market.Candle{bin(min1, "1", market.Reconciled)})
	c, r := newTestCollector(st, emptyREST{})
	for i, upTo := range []int64{3, 4, 5} {
		if i == 1 {
			st.Upsert(ctx, []market.Candle{bin(2*min1, "1", market.Reconciled)}) // late, after the repair gave up
		}
		if err := r.repair(ctx, repairReq{m: market.Default, reason: "overdue", upTo: upTo * min1, first: min1}); err != nil {
			t.Fatal(err)
		}
	}
	gaps, _ := st.Gaps(ctx, market.Default, 0, 1<<62)
	if len(gaps) == 0 || gaps[0].From != 2*min1 || gaps[0].Status != store.GapUnfillable {
		t.Fatalf("ledger %+v; want minute 2 unfillable", gaps)
	}
	found, resolved := counted(t, c.met)
	if found != float64(len(gaps)) || resolved != found {
		t.Fatalf("gaps found %v, resolved %v, ledger %d; each gap must be resolved exactly once", found, resolved, len(gaps))
	}
}

// errREST fails every request with err.
type errREST struct{ err error }

func (e errREST) Candles(context.Context, market.Market, int64, int64, func(int64)) ([]market.Candle, error) {
	return nil, e.err
}

// TestOnlyPassingFailuresHoldAGap: a REST failure that may pass (5xx,
// 429, the network) leaves the gap found, to be retried; the venue's
// refusal of the request (another 4xx, an error in its answer) is its
// last word, and the gap is unfillable, saying why.
func TestOnlyPassingFailuresHoldAGap(t *testing.T) {
	cases := []struct {
		err  error
		want store.GapStatus
	}{
		{&upstream.StatusError{Status: 503}, store.GapFound},
		{&upstream.StatusError{Status: 429}, store.GapFound},
		{fmt.Errorf("GET x: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), store.GapFound},
		{context.Canceled, store.GapFound},
		{&upstream.StatusError{Status: 400, Body: "bad symbol"}, store.GapUnfillable},
		{errors.New("kraken: cannot decode frame: OHLC: Kraken error [EQuery:Unknown asset pair]"), store.GapUnfillable},
	}
	for _, c := range cases {
		ctx := context.Background()
		st := store.NewMemory(nil)
		st.Upsert(ctx, []market.Candle{bin(min1, "1", market.Reconciled)})
		_, r := newTestCollector(st, errREST{c.err})
		if err := r.repair(ctx, repairReq{m: market.Default, reason: "overdue", upTo: 3 * min1, first: min1}); err != nil {
			t.Fatal(err)
		}
		gaps, _ := st.Gaps(ctx, market.Default, 0, 1<<62)
		if len(gaps) != 1 || gaps[0].Status != c.want || gaps[0].Detail != c.err.Error() {
			t.Errorf("REST %v: ledger %+v, want one gap %s with the error", c.err, gaps, c.want)
		}
	}
}
