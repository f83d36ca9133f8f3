package collector

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// BenchmarkFlush100Markets is one writer flush carrying a new version of
// the forming minute of each of 100 markets, into SQLite, with the full
// rollup cascade (3m … 1d) rebuilt for each: the collector's steady state
// at 100 markets, once per flush period (100 ms).
func BenchmarkFlush100Markets(b *testing.B) { benchFlush(b, 100, 100, 10) }

// BenchmarkFlush5Markets is the same for 5 markets: a small flush, where
// compiling statements would cost more than running them.
func BenchmarkFlush5Markets(b *testing.B) { benchFlush(b, 5, 5, 10) }

// BenchmarkFlushLive is a flush as `bench collect --markets 300 --speed 1`
// makes them: 300 markets, of which a fifth changed since the last flush
// (a different fifth each time), ten flushes a second, so that a minute is
// 600 flushes; the store starts empty.
func BenchmarkFlushLive(b *testing.B) { benchFlush(b, 300, 60, 600) }

// benchFlush flushes a new version of the forming minute of `changed` of
// n markets each time (all of them when changed is n), perMinute flushes
// to a minute.
func benchFlush(b *testing.B, n, changed, perMinute int) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := NewWriter(st, nil, discardLogger(), metrics.Discard(), time.Hour)
	ms := make([]market.Market, n)
	for i := range ms {
		ms[i] = market.Market{Venue: "binance", Symbol: fmt.Sprintf("SYM%03dUSDT", i)}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		px := market.MustDecimal(fmt.Sprintf("%d.5", 100+i%50))
		open := int64(i/perMinute) * 60_000
		for j := range changed {
			m := ms[(i*changed+j*7)%n] // 7 is prime to 5, 100 and 300: distinct markets
			w.Put(market.Candle{Market: m, Interval: market.I1m, OpenTime: open, Open: px, High: px, Low: px, Close: px,
				Volume: px, Quote: px, Trades: int64(i), State: market.Provisional, Source: market.SourceTrades})
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
