package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// BenchmarkDiskPerMarketYear measures the disk a market's candles take:
// 30 days of final 1m candles (a random walk of BTC-like prices with two
// decimals, five-decimal volumes, trade counts) written an hour a batch
// with their rollups (3m to 1d), as the collector writes them, then
// compacted (candlewire backup's VACUUM INTO). It reports the bytes of a
// market-year, 365/30 of the month's, and per stored candle.
//
//	go test -run x -bench DiskPerMarketYear -benchtime 1x ./internal/sqlite
func BenchmarkDiskPerMarketYear(b *testing.B) {
	ctx := context.Background()
	const days = 30
	for b.Loop() {
		dir := b.TempDir()
		s, err := Open(ctx, filepath.Join(dir, "c.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		px, open := 6_400_000, int64(1_798_761_600_000) // cents; 2027-01-01
		for h := range days * 24 {
			var batch []market.Candle
			for m := range int64(60) {
				o := px
				hi, lo := o, o
				for range 4 {
					px += rng.IntN(2001) - 1000
					hi, lo = max(hi, px), min(lo, px)
				}
				vol := rng.IntN(5_000_000)
				d := func(c int) market.Decimal { return market.MustDecimal(fmt.Sprintf("%d.%02d", c/100, c%100)) }
				batch = append(batch, market.Candle{Market: market.Default, Interval: market.I1m, OpenTime: open + (int64(h)*60+m)*60_000,
					Open: d(o), High: d(hi), Low: d(lo), Close: d(px), Volume: market.MustDecimal(fmt.Sprintf("%d.%05d", vol/100_000, vol%100_000)),
					Quote: market.MustDecimal(fmt.Sprintf("%d.%04d", vol*64, rng.IntN(10_000))), Trades: int64(rng.IntN(2000)),
					State: market.Reconciled, Source: market.SourceKline})
			}
			if _, _, err := s.Write(ctx, batch, func(ctx context.Context, r store.Reader, cs []market.Candle) ([]market.Candle, error) {
				return candle.Rollup(ctx, r, cs)
			}); err != nil {
				b.Fatal(err)
			}
		}
		n, err := s.Count(ctx)
		s.Close()
		if err != nil {
			b.Fatal(err)
		}
		info, err := Backup(ctx, filepath.Join(dir, "c.db"), filepath.Join(dir, "compact.db"))
		if err != nil {
			b.Fatal(err)
		}
		live, _ := os.Stat(filepath.Join(dir, "c.db"))
		b.ReportMetric(float64(info.Bytes)*365/days/(1<<20), "MiB/market-year")
		b.ReportMetric(float64(live.Size())*365/days/(1<<20), "MiB/market-year-live")
		b.ReportMetric(float64(info.Bytes)/float64(n), "bytes/candle")
		b.ReportMetric(float64(n)*365/days, "candles/market-year")
	}
}
