package candle

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

var btc = market.Market{Venue: "binance", Symbol: "BTCUSDT"}

func d(s string) market.Decimal { return market.MustDecimal(s) }

func tr(ms int64, price, size string, seq int64) market.Trade {
	p, s := d(price), d(size)
	return market.Trade{Market: btc, Time: ms, Price: p, Size: s, Quote: p.Mul(s), FirstSeq: seq, LastSeq: seq}
}

func bin(open int64, o, h, l, c, v string, n, lastSeq int64, st market.State) market.Candle {
	return market.Candle{Market: btc, Interval: market.I1m, OpenTime: open, Open: d(o), High: d(h), Low: d(l),
		Close: d(c), Volume: d(v), Trades: n, State: st, Source: market.SourceKline, LastSeq: lastSeq}
}

// brief renders a candle as "open state O/H/L/C/V/n" for comparisons.
func brief(c market.Candle) string {
	return fmt.Sprintf("%d %s %s/%s/%s/%s/%s/%d", c.OpenTime, c.State, c.Open, c.High, c.Low, c.Close, c.Volume, c.Trades)
}

func TestEngine(t *testing.T) {
	t.Parallel()
	type step struct {
		trade *market.Trade
		bin   *market.Candle
		want  []string
	}
	tp := func(x market.Trade) *market.Trade { return &x }
	bp := func(x market.Candle) *market.Candle { return &x }
	cases := []struct {
		name      string
		steps     []step
		stats     Stats
		countless bool // Options.Unmergeable and NoCount
	}{
		{"trades build and a later trade closes", []step{
			{trade: tp(tr(60_100, "10", "1", 1)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{trade: tp(tr(60_200, "12", "0.5", 2)), want: []string{"60000 provisional 10/12/10/12/1.5/2"}},
			{trade: tp(tr(60_300, "9", "1", 3)), want: []string{"60000 provisional 10/12/9/9/2.5/3"}},
			{trade: tp(tr(125_000, "11", "1", 4)), want: []string{"60000 closed 10/12/9/9/2.5/3", "120000 provisional 11/11/11/11/1/1"}},
		}, Stats{Trades: 4, ClosedByData: 1}, false},
		{"replayed trades are skipped", []step{
			{trade: tp(tr(60_100, "10", "1", 5)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{trade: tp(tr(60_100, "10", "1", 5))},
		}, Stats{Trades: 1, Duplicates: 1}, false},
		{"forming kline ahead of our trades is adopted, then trades continue", []step{
			{trade: tp(tr(60_100, "10", "1", 7)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{bin: bp(bin(60_000, "9", "11", "8", "10", "5", 8, 8, market.Provisional)), want: []string{"60000 provisional 9/11/8/10/5/8"}},
			{trade: tp(tr(60_500, "10", "1", 8))},
			{trade: tp(tr(60_600, "12", "1", 9)), want: []string{"60000 provisional 9/12/8/12/6/9"}},
		}, Stats{Trades: 2, Duplicates: 1}, false},
		{"joined mid-minute: the forming kline that reaches our only trade holds the earlier ones too", []step{
			{trade: tp(tr(60_100, "10", "1", 7)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{bin: bp(bin(60_000, "9", "11", "8", "10", "5", 8, 7, market.Provisional)), want: []string{"60000 provisional 9/11/8/10/5/8"}},
			{trade: tp(tr(60_200, "12", "1", 8)), want: []string{"60000 provisional 9/12/8/12/6/9"}},
		}, Stats{Trades: 2}, false},
		{"forming kline behind our trades is ignored", []step{
			{trade: tp(tr(60_100, "10", "1", 9)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{bin: bp(bin(60_000, "10", "10", "10", "10", "1", 1, 8, market.Provisional))},
		}, Stats{Trades: 1}, false},
		{"final kline reconciles, differences are counted, a replayed trade is not applied", []step{
			{trade: tp(tr(100, "9", "1", 1)), want: []string{"0 provisional 9/9/9/9/1/1"}}, // joined mid-minute
			{trade: tp(tr(60_100, "10", "1", 2)), want: []string{"0 closed 9/9/9/9/1/1", "60000 provisional 10/10/10/10/1/1"}},
			{bin: bp(bin(60_000, "10", "10", "10", "10", "2", 2, 3, market.Reconciled)), want: []string{"60000 reconciled 10/10/10/10/2/2"}},
			{trade: tp(tr(60_200, "10", "1", 3))},
		}, Stats{Trades: 2, Duplicates: 1, ClosedByData: 1, Corrections: 1}, false},
		{"a final equal to the closed trade-built candle is no correction; the joined minute is not compared", []step{
			{trade: tp(tr(60_100, "10", "1", 1)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{trade: tp(tr(120_100, "11", "1", 2)), want: []string{"60000 closed 10/10/10/10/1/1", "120000 provisional 11/11/11/11/1/1"}},
			{bin: bp(bin(60_000, "10", "12", "10", "10", "1", 1, 1, market.Reconciled)), want: []string{"60000 reconciled 10/12/10/10/1/1"}},
			{bin: bp(bin(120_000, "11", "11", "11", "11", "1", 1, 2, market.Reconciled)), want: []string{"120000 reconciled 11/11/11/11/1/1"}},
		}, Stats{Trades: 2, ClosedByData: 1}, false},
		{"a trade in an older minute is late", []step{
			{trade: tp(tr(125_000, "11", "1", 0)), want: []string{"120000 provisional 11/11/11/11/1/1"}},
			{trade: tp(tr(61_000, "11", "1", 0))},
		}, Stats{Trades: 1, LateTrades: 1}, false},
		{"next minute's kline closes the current bin", []step{
			{trade: tp(tr(60_100, "10", "1", 1)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{bin: bp(bin(120_000, "10", "10", "10", "10", "0", 0, 0, market.Provisional)), want: []string{"60000 closed 10/10/10/10/1/1", "120000 provisional 10/10/10/10/0/0"}},
		}, Stats{Trades: 1, ClosedByData: 1}, false},
		{"an empty forming kline is replaced by the first trade", []step{
			{bin: bp(bin(60_000, "10", "10", "10", "10", "0", 0, 0, market.Provisional)), want: []string{"60000 provisional 10/10/10/10/0/0"}},
			{trade: tp(tr(60_500, "12", "1", 1)), want: []string{"60000 provisional 12/12/12/12/1/1"}},
			{trade: tp(tr(60_600, "11", "1", 2)), want: []string{"60000 provisional 12/12/11/11/2/2"}},
		}, Stats{Trades: 2}, false},
		{"aggregate trade counts its fills and seq gaps are counted", []step{
			{trade: tp(market.Trade{Market: btc, Time: 60_001, Price: d("1"), Size: d("1"), FirstSeq: 10, LastSeq: 12}), want: []string{"60000 provisional 1/1/1/1/1/3"}},
			{trade: tp(market.Trade{Market: btc, Time: 60_002, Price: d("1"), Size: d("1"), FirstSeq: 20, LastSeq: 20}), want: []string{"60000 provisional 1/1/1/1/2/4"}},
		}, Stats{Trades: 2, SeqGaps: 1}, false},
		{"countless venue: forming bins are ignored, even the next minute's", []step{
			{trade: tp(tr(60_100, "10", "1", 1)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{bin: bp(bin(60_000, "9", "11", "8", "10", "5", 0, 0, market.Provisional))},
			{trade: tp(tr(60_200, "12", "1", 2)), want: []string{"60000 provisional 10/12/10/12/2/2"}},
			{bin: bp(bin(120_000, "12", "12", "12", "12", "0", 0, 0, market.Provisional))},
			{trade: tp(tr(60_300, "11", "1", 3)), want: []string{"60000 provisional 10/12/10/11/3/3"}},
		}, Stats{Trades: 3}, true},
		{"countless venue: a final ahead of its minute's last trades is not compared; those trades are late", []step{
			{trade: tp(tr(60_100, "10", "1", 1)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{trade: tp(tr(120_100, "10", "1", 2)), want: []string{"60000 closed 10/10/10/10/1/1", "120000 provisional 10/10/10/10/1/1"}},
			{bin: bp(bin(120_000, "10", "10", "9", "9", "2", 0, 0, market.Reconciled)), want: []string{"120000 reconciled 10/10/9/9/2/0"}},
			{trade: tp(tr(120_200, "9", "1", 3))},
			{trade: tp(tr(180_100, "9", "1", 4)), want: []string{"180000 provisional 9/9/9/9/1/1"}},
		}, Stats{Trades: 3, LateTrades: 1, ClosedByData: 1}, true},
		{"countless venue: a final without a count is no correction; one with other values is", []step{
			{trade: tp(tr(60_100, "10", "1", 1)), want: []string{"60000 provisional 10/10/10/10/1/1"}},
			{trade: tp(tr(120_100, "11", "1", 2)), want: []string{"60000 closed 10/10/10/10/1/1", "120000 provisional 11/11/11/11/1/1"}},
			{trade: tp(tr(180_100, "11", "1", 3)), want: []string{"120000 closed 11/11/11/11/1/1", "180000 provisional 11/11/11/11/1/1"}},
			{trade: tp(tr(240_100, "11", "1", 4)), want: []string{"180000 closed 11/11/11/11/1/1", "240000 provisional 11/11/11/11/1/1"}},
			{bin: bp(bin(120_000, "11", "11", "11", "11", "1", 0, 0, market.Reconciled)), want: []string{"120000 reconciled 11/11/11/11/1/0"}},
			{bin: bp(bin(180_000, "11", "11", "11", "11", "2", 0, 0, market.Reconciled)), want: []string{"180000 reconciled 11/11/11/11/2/0"}},
		}, Stats{Trades: 4, ClosedByData: 3, Corrections: 1}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := NewEngineWith(btc, Options{Unmergeable: c.countless, NoCount: c.countless})
			for i, s := range c.steps {
				var got []market.Candle
				if s.trade != nil {
					got = e.Trade(*s.trade)
				} else {
					got = e.Bin(*s.bin)
				}
				var gs []string
				for _, g := range got {
					gs = append(gs, brief(g))
				}
				if strings.Join(gs, "|") != strings.Join(s.want, "|") {
					t.Fatalf("step %d:\n got %v\nwant %v", i, gs, s.want)
				}
			}
			if e.Stats() != c.stats {
				t.Fatalf("stats = %+v, want %+v", e.Stats(), c.stats)
			}
		})
	}
}

// memReader is an in-memory Reader for rollup tests.
type memReader map[market.Key]market.Candle

func (m memReader) Candles(_ context.Context, mk market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	var out []market.Candle
	for t := from; t < to; t += iv.Millis() {
		if c, ok := m[market.Key{Market: mk, Interval: iv, OpenTime: t}]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func TestRollup(t *testing.T) {
	t.Parallel()
	store := memReader{}
	var all []market.Candle
	for i := int64(0); i < 5; i++ {
		p := fmt.Sprint(100 + i)
		c := bin(i*60_000, p, p, fmt.Sprint(99+i), p, "1", 2, 0, market.Reconciled)
		store[c.Key()] = c
		all = append(all, c)
	}
	// The fifth minute changes and is passed as pending: it wins over the store.
	changed := all[4]
	changed.Close, changed.High, changed.State = d("200"), d("200"), market.Closed
	out, err := Rollup(context.Background(), store, []market.Candle{changed})
	if err != nil {
		t.Fatal(err)
	}
	got := map[market.Interval]string{}
	for _, c := range out {
		got[c.Interval] = brief(c)
	}
	want := map[market.Interval]string{
		market.I3m:  "180000 provisional 103/200/102/200/2/4",
		market.I5m:  "0 closed 100/200/99/200/5/10",
		market.I15m: "0 provisional 100/200/99/200/5/10",
		market.I30m: "0 provisional 100/200/99/200/5/10",
		market.I1h:  "0 provisional 100/200/99/200/5/10",
		market.I2h:  "0 provisional 100/200/99/200/5/10",
		market.I4h:  "0 provisional 100/200/99/200/5/10",
		market.I1d:  "0 provisional 100/200/99/200/5/10",
	}
	for iv, w := range want {
		if got[iv] != w {
			t.Errorf("%s: got %q want %q", iv, got[iv], w)
		}
	}
	if len(out) != len(want) {
		t.Errorf("rollup produced %d candles, want %d", len(out), len(want))
	}
}

func TestAggregateReconciledNeedsEveryPart(t *testing.T) {
	t.Parallel()
	parts := []market.Candle{bin(0, "1", "2", "1", "2", "1", 1, 0, market.Reconciled), bin(60_000, "2", "2", "2", "2", "1", 1, 0, market.Reconciled)}
	c, _ := Aggregate(market.I3m, 0, parts, 3)
	if c.State != market.Provisional {
		t.Fatalf("state with a missing part = %s", c.State)
	}
	parts = append(parts, bin(120_000, "2", "3", "2", "3", "1", 1, 0, market.Reconciled))
	c, _ = Aggregate(market.I3m, 0, parts, 3)
	if c.State != market.Reconciled || brief(c) != "0 reconciled 1/3/1/3/3/3" {
		t.Fatalf("complete = %s", brief(c))
	}
}

// BenchmarkEngineTrade is the per-trade cost of building candles.
func BenchmarkEngineTrade(b *testing.B) {
	e := NewEngine(btc)
	prices := []market.Decimal{d("64321.57"), d("64321.58"), d("64320.01"), d("64325.99")}
	size := d("0.00058")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p := prices[i&3]
		e.Trade(market.Trade{Market: btc, Time: int64(i) * 50, Price: p, Size: size, Quote: p.Mul(size), FirstSeq: int64(i) + 1, LastSeq: int64(i) + 1})
	}
}
