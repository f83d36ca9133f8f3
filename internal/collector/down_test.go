package collector

import (
	"context"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// scriptFeed plays a venue whose trades and bins come on two connections:
// minutes 0-4 with trades and finals; the bin connection goes down while
// trades of minutes 5-9 keep coming; it comes back for minutes 10-13.
type scriptFeed struct{ m market.Market }

const base = int64(1_700_000_040_000) // a minute boundary

func (f scriptFeed) Run(ctx context.Context, ms []market.Market, sink upstream.Sink) error {
	f.play(sink, ms)
	<-ctx.Done()
	return nil
}

// play sends minutes 0-13 of the script.
func (f scriptFeed) play(sink upstream.Sink, ms []market.Market) {
	sink.Live(ms)
	for m := range 5 {
		playMinute(sink, f.m, m, true)
	}
	sink.Down(ms)
	for m := 5; m < 10; m++ {
		playMinute(sink, f.m, m, false)
		time.Sleep(20 * time.Millisecond) // give an overdue repair every chance to start
	}
	sink.Live(ms)
	for m := 10; m < 14; m++ {
		playMinute(sink, f.m, m, true)
	}
}

// playMinute sends minute's one trade (id minute+1, at its middle) and,
// when final, the venue's final of the minute; every value is 100.
func playMinute(sink upstream.Sink, m market.Market, minute int, final bool) {
	p, seq := market.MustDecimal("100"), int64(minute+1)
	sink.Trades([]market.Trade{{Market: m, Time: base + int64(minute)*60_000 + 30_000, Price: p, Size: p, Quote: p, FirstSeq: seq, LastSeq: seq}})
	if final {
		sink.Bin(market.Candle{Market: m, Interval: market.I1m, OpenTime: base + int64(minute)*60_000, Open: p, High: p, Low: p,
			Close: p, Volume: p, Quote: p, State: market.Reconciled, Source: market.SourceKline})
	}
}

// restAll answers every minute with a reconciled candle.
type restAll struct{}

func (restAll) Candles(_ context.Context, m market.Market, from, to int64, _ func(int64)) ([]market.Candle, error) {
	var out []market.Candle
	for t := from; t < to; t += 60_000 {
		p := market.MustDecimal("100")
		out = append(out, market.Candle{Market: m, Interval: market.I1m, OpenTime: t, Open: p, High: p, Low: p, Close: p,
			Volume: p, Quote: p, State: market.Reconciled, Source: market.SourceREST})
	}
	return out, nil
}

// TestDownHoldsRepairUntilReconnect: while the connection carrying the
// bins is down, trades on the other connection make finals overdue, but
// the minutes it missed are repaired once, after it is back, as one
// reconnect gap, not one overdue gap a minute.
func TestDownHoldsRepairUntilReconnect(t *testing.T) {
	m := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	st := store.NewMemory(nil)
	c, err := New(Config{Store: st, FlushEvery: 10 * time.Millisecond, Venues: []Venue{{Name: "okx", Feed: scriptFeed{m}, REST: restAll{},
		Markets: []market.Market{m}, FinalGrace: time.Second, Bins: candle.Options{Unmergeable: true, NoCount: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	c.Run(ctx)
	gaps, _ := st.Gaps(context.Background(), m, 0, 1<<62)
	if len(gaps) != 1 || gaps[0].Reason != "reconnect" || gaps[0].From != base+5*60_000 || gaps[0].To != base+10*60_000 || gaps[0].Status != store.GapFilled {
		t.Fatalf("gaps %+v; want one filled reconnect gap over minutes 5-9", gaps)
	}
	got, _ := st.Candles(context.Background(), m, market.I1m, base, base+14*60_000)
	if len(got) != 14 {
		t.Fatalf("%d minutes stored, want 14", len(got))
	}
}

// tradeReconnectFeed plays OKX's trade connection coming back (Live
// without Down) while the bins never stopped; minute 6's final is late.
type tradeReconnectFeed struct{ m market.Market }

func (f tradeReconnectFeed) Run(ctx context.Context, ms []market.Market, sink upstream.Sink) error {
	sink.Live(ms)
	for m := range 5 {
		playMinute(sink, f.m, m, true)
	}
	for m := 5; m < 10; m++ {
		playMinute(sink, f.m, m, m != 6)
		if m == 6 {
			sink.Live(ms) // the trade connection is back; the bins never stopped
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-ctx.Done()
	return nil
}

// TestLiveWithoutDownIsNoReconnect: a Live without a Down (OKX's trade
// connection reconnecting) repairs nothing by itself; a final that is then
// late is repaired as overdue, not put down to a reconnect.
func TestLiveWithoutDownIsNoReconnect(t *testing.T) {
	m := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	st := store.NewMemory(nil)
	c, err := New(Config{Store: st, FlushEvery: 10 * time.Millisecond, Venues: []Venue{{Name: "okx", Feed: tradeReconnectFeed{m}, REST: restAll{},
		Markets: []market.Market{m}, FinalGrace: time.Second, Bins: candle.Options{Unmergeable: true, NoCount: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Run(ctx)
	gaps, _ := st.Gaps(context.Background(), m, 0, 1<<62)
	if len(gaps) != 1 || gaps[0].Reason != "overdue" || gaps[0].From != base+6*60_000 {
		t.Fatalf("gaps %+v; want minute 6 repaired as overdue", gaps)
	}
}

// joinFeed plays a venue without bins (Coinbase) joined mid-way through
// minute 0: its feed makes finals from minute 1 on, never minute 0's.
type joinFeed struct{ m market.Market }

func (f joinFeed) Run(ctx context.Context, ms []market.Market, sink upstream.Sink) error {
	p := market.MustDecimal("100")
	sink.Live(ms)
	for minute := range 6 {
		at := base + int64(minute)*60_000
		if minute > 1 { // the minute before is whole: its final
			sink.Bin(market.Flat(f.m, at-60_000, p, market.SourceTrades))
		}
		sink.Trades([]market.Trade{{Market: f.m, Time: at + 30_000, Price: p, Size: p, Quote: p, FirstSeq: int64(minute + 1), LastSeq: int64(minute + 1)}})
		time.Sleep(20 * time.Millisecond)
	}
	<-ctx.Done()
	return nil
}

// TestTradesOnlyRepairsTheJoinedMinute: for a venue without bins the
// restart's repair covers the minute the feed joined, which no final will
// come for; without TradesOnly that minute is found later, as overdue.
func TestTradesOnlyRepairsTheJoinedMinute(t *testing.T) {
	for _, tc := range []struct {
		tradesOnly bool
		reason     string
	}{{true, "restart"}, {false, "overdue"}} {
		m := market.Market{Venue: "coinbase", Symbol: "BTC-USD"}
		st := store.NewMemory(nil)
		c, err := New(Config{Store: st, FlushEvery: 10 * time.Millisecond, Venues: []Venue{{Name: "coinbase", Feed: joinFeed{m}, REST: restAll{},
			Markets: []market.Market{m}, FinalGrace: time.Second, TradesOnly: tc.tradesOnly}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
		c.Run(ctx)
		cancel()
		gaps, _ := st.Gaps(context.Background(), m, 0, 1<<62)
		if len(gaps) != 1 || gaps[0].Reason != tc.reason || gaps[0].From != base || gaps[0].To != base+60_000 {
			t.Errorf("TradesOnly %v: gaps %+v; want minute 0 as one %s gap", tc.tradesOnly, gaps, tc.reason)
		}
	}
}

// TestStopWhileStarting: a collector stopped before it has read where its
// markets stopped (SIGTERM right after start) returns cleanly: there is
// nothing collected to lose, and no error to report.
func TestStopWhileStarting(t *testing.T) {
	m := market.Market{Venue: "okx", Symbol: "BTC-USDT"}
	c, err := New(Config{Store: ctxStore{store.NewMemory(nil)}, FlushEvery: 10 * time.Millisecond, Venues: []Venue{{Name: "okx", Feed: scriptFeed{m},
		REST: restAll{}, Markets: []market.Market{m}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatalf("Run after a stop while starting: %v", err)
	}
}

// ctxStore is a memory store whose reads fail once their context has
// ended, as SQLite's and PostgreSQL's do.
type ctxStore struct{ *store.Memory }

func (s ctxStore) Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Memory.Page(ctx, m, iv, from, to, limit)
}
