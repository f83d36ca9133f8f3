package collector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

// TestCoarserBinsConflatedToASecond: every flush stores and publishes the
// forming minute, but its coarser bins are rebuilt from it at most once a
// second (rollEvery); a flush with nothing queued rebuilds those whose
// second has passed; a closed minute rebuilds them at once; the final
// flush leaves none behind.
func TestCoarserBinsConflatedToASecond(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	pub := &storetest.Recorder{}
	w := NewWriter(st, pub, discardLogger(), metrics.Discard(), time.Hour)
	clock := time.Unix(1_700_000_000, 0)
	w.now = func() time.Time { return clock }
	m := market.Market{Venue: "binance", Symbol: "BTCUSDT"}
	version := func(open int64, close string, s market.State) market.Candle {
		p := market.MustDecimal(close)
		return market.Candle{Market: m, Interval: market.I1m, OpenTime: open, Open: market.MustDecimal("100"), High: market.MustDecimal("200"),
			Low: market.MustDecimal("50"), Close: p, Volume: market.MustDecimal(close), Quote: market.Zero, Trades: 1, State: s,
			Source: market.SourceTrades}
	}
	fiveMinClose := func() string {
		cs, err := st.Candles(ctx, m, market.I5m, 0, 1<<50)
		if err != nil || len(cs) != 1 {
			t.Fatalf("5m bins %v, %v", cs, err)
		}
		return cs[0].Close.String()
	}
	for i, step := range []struct {
		after   time.Duration
		put     market.Candle // none when its interval is empty
		all     bool
		want5m  string
		publish string // the 1m close published by the flush, "" for none
	}{
		{0, version(0, "101", market.Provisional), false, "101", "101"},
		{300 * time.Millisecond, version(0, "102", market.Provisional), false, "101", "102"},
		{300 * time.Millisecond, market.Candle{}, false, "101", ""},
		{500 * time.Millisecond, market.Candle{}, false, "102", ""}, // 1.1 s since the rebuild
		{100 * time.Millisecond, version(0, "103", market.Provisional), false, "102", "103"},
		{100 * time.Millisecond, version(0, "104", market.Closed), false, "104", "104"},
		{100 * time.Millisecond, version(60_000, "105", market.Provisional), false, "104", "105"},
		{100 * time.Millisecond, version(60_000, "106", market.Provisional), true, "106", "106"},
	} {
		clock = clock.Add(step.after)
		before := len(pub.Got())
		if step.put.Interval != "" {
			w.Put(step.put)
		}
		flush := w.Flush
		if step.all {
			flush = w.FlushAll
		}
		if err := flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fiveMinClose(); got != step.want5m {
			t.Fatalf("step %d: the 5m bin's close is %s, want %s", i, got, step.want5m)
		}
		var published string
		for _, c := range pub.Got()[before:] {
			if c.Interval == market.I1m {
				published = c.Close.String()
			}
		}
		if published != step.publish {
			t.Fatalf("step %d: published the 1m close %q, want %q", i, published, step.publish)
		}
	}
	if bad := storetest.WrongRollups(t, st, m); len(bad) > 0 {
		t.Fatalf("%d wrong rollups after the final flush, first %s", len(bad), bad[0])
	}
}

// TestCadencePlan: what one write rolls up now and what it puts off.
func TestCadencePlan(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	a, b := market.Market{Venue: "v", Symbol: "A"}, market.Market{Venue: "v", Symbol: "B"}
	forming := func(m market.Market, open int64) market.Candle {
		return market.Candle{Market: m, Interval: market.I1m, OpenTime: open, State: market.Provisional}
	}
	closed := forming(b, 0)
	closed.State = market.Closed
	for _, c := range []struct {
		name    string
		last    map[market.Market]time.Duration // how long ago each was rebuilt
		owed    map[market.Market][]market.Candle
		changed []market.Candle
		all     bool
		now     string // the markets and open times rolled up now
		putOff  string
	}{
		{"never rebuilt", nil, nil, []market.Candle{forming(a, 0)}, false, "A@0", ""},
		{"rebuilt just now", map[market.Market]time.Duration{a: 0}, nil, []market.Candle{forming(a, 0)}, false, "", "A@0"},
		{"a second ago", map[market.Market]time.Duration{a: time.Second}, nil, []market.Candle{forming(a, 0)}, false, "A@0", ""},
		{"owed and due, nothing changed", map[market.Market]time.Duration{a: time.Second},
			map[market.Market][]market.Candle{a: {forming(a, 0)}}, nil, false, "A@0", ""},
		{"owed, not due", map[market.Market]time.Duration{a: 0},
			map[market.Market][]market.Candle{a: {forming(a, 0)}}, nil, false, "", ""},
		{"a closed minute takes the owed ones along", map[market.Market]time.Duration{b: 0},
			map[market.Market][]market.Candle{b: {forming(b, 60_000)}}, []market.Candle{closed, forming(b, 120_000)}, false,
			"B@0 B@120000 B@60000", ""}, // sorted as text
		{"owed, newer in the write", map[market.Market]time.Duration{a: time.Second},
			map[market.Market][]market.Candle{a: {forming(a, 0)}}, []market.Candle{forming(a, 0)}, false, "A@0", ""},
		{"all", map[market.Market]time.Duration{a: 0, b: 0},
			map[market.Market][]market.Candle{a: {forming(a, 0)}}, []market.Candle{forming(b, 0)}, true, "A@0 B@0", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cd := cadence{last: map[market.Market]time.Time{}, owed: c.owed}
			for m, ago := range c.last {
				cd.last[m] = at.Add(-ago)
			}
			r := cd.plan(c.changed, at, c.all)
			if got := keys(r.now); got != c.now {
				t.Errorf("now %q, want %q", got, c.now)
			}
			var off []market.Candle
			for _, cs := range r.putOff {
				off = append(off, cs...)
			}
			if got := keys(off); got != c.putOff {
				t.Errorf("put off %q, want %q", got, c.putOff)
			}
		})
	}
}

// keys lists candles as market@open, sorted.
func keys(cs []market.Candle) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		k := fmt.Sprintf("%s@%d", c.Market.Symbol, c.OpenTime)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
