package backfill

import (
	"context"
	"io"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/progress"
)

// Chunk is how much history one fetch-and-store step covers.
const Chunk = 24 * time.Hour

// Run fetches m's 1m candles in [from, to) a day at a time and stores each
// day with its rollups through w, so memory stays flat however long the
// range. It returns how many rows were new or changed.
func Run(ctx context.Context, fetch collector.Fetcher, w *collector.Writer, m market.Market, from, to int64, bar *Progress) (int, error) {
	defer bar.Done()
	stored := 0
	for a := from; a < to; a += Chunk.Milliseconds() {
		b := min(a+Chunk.Milliseconds(), to)
		cs, err := fetch.Candles(ctx, m, a, b, bar.Update)
		if len(cs) > 0 {
			res, werr := w.WriteNow(ctx, cs)
			if werr != nil {
				return stored, werr
			}
			stored += len(res.Changed)
		}
		if err != nil {
			return stored, err
		}
		bar.Update(b)
	}
	return stored, nil
}

// Progress is backfill's bar: the span of minutes, each position named by
// its time.
type Progress = progress.Bar

// NewProgress is a bar for [from, to) on w.
func NewProgress(w io.Writer, from, to int64) *Progress {
	return progress.New(w, from, to, func(at int64) string { return time.UnixMilli(at).UTC().Format(time.RFC3339) })
}
