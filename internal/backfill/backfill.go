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

// Result is what a backfill did.
type Result struct {
	Minutes  int64 // in the range asked for
	Had      int64 // already final in the store, in whole days skipped
	Received int64 // 1m candles the venue sent
	Stored   int64 // of those, new or changed in the store
	// Until is where the backfill stopped: the range's end when it ran to
	// it, else the first minute not done (a re-run starts there again,
	// skipping the days already whole).
	Until int64
}

// Missing is how many minutes of the range the venue did not send nor the
// store hold: minutes with no trades that the venue leaves out, or before
// its history (or its memory) begins.
func (r Result) Missing() int64 { return max(r.Minutes-r.Had-r.Received, 0) }

// Run fetches m's 1m candles in [from, to) a day at a time and stores each
// day with its rollups through w, so memory stays flat however long the
// range. A day whose every minute st holds final is skipped, so a run
// that was stopped continues where it stopped. On an error (a stop
// included) the result says how far it got.
func Run(ctx context.Context, fetch collector.Fetcher, w *collector.Writer, st Stored, m market.Market, from, to int64, bar *Progress) (Result, error) {
	r := Result{Minutes: (to - from) / 60_000, Until: from}
	for a := from; a < to; a += Chunk.Milliseconds() {
		b := min(a+Chunk.Milliseconds(), to)
		if have, err := st.Candles(ctx, m, market.I1m, a, b); err == nil && int64(market.Finals(have)) == (b-a)/60_000 {
			r.Had += (b - a) / 60_000
			r.Until = b
			continue
		}
		cs, err := fetch.Candles(ctx, m, a, b, bar.Update)
		if len(cs) > 0 {
			res, werr := w.WriteNow(ctx, cs)
			if werr != nil {
				bar.Stop(a)
				return r, werr
			}
			r.Received += int64(len(cs))
			r.Stored += int64(len(res.Changed))
		}
		if err != nil {
			bar.Stop(a)
			return r, err
		}
		r.Until = b
		bar.Update(b)
	}
	bar.Done()
	return r, nil
}

// Stored is what Run reads of the store: the 1m candles of a range.
type Stored interface {
	Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error)
}

// Progress is backfill's bar: the span of minutes, each position named by
// its time.
type Progress = progress.Bar

// NewProgress is a bar for [from, to) on w.
func NewProgress(w io.Writer, from, to int64) *Progress {
	return progress.New(w, from, to, func(at int64) string { return time.UnixMilli(at).UTC().Format(time.RFC3339) })
}
