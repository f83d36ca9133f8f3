package migrate

import (
	"context"
	"fmt"
	"io"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/progress"
	"github.com/candlewire/candlewire/internal/store"
)

// Source is a store copied from (sqlite.Store is one).
type Source interface {
	Series(ctx context.Context) ([]market.Series, error)
	Count(ctx context.Context) (int64, error)
	Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error)
	AllGaps(ctx context.Context) ([]store.Gap, error)
	AllConnects(ctx context.Context) ([]store.Connect, error)
}

// Target is a store copied to (postgres.Store is one).
type Target interface {
	Import(ctx context.Context, cs []market.Candle) (int, error)
	ImportGaps(ctx context.Context, origin string, gs []store.Gap) (int, error)
	ImportConnects(ctx context.Context, cs []store.Connect) (int, error)
}

// Report says what a copy found and what it wrote.
type Report struct {
	Candles, CandlesCopied   int64
	Gaps, GapsCopied         int
	Connects, ConnectsCopied int
}

// String is the report as one line.
func (r Report) String() string {
	return fmt.Sprintf("copied %d of %d candles, %d of %d gaps, %d of %d connects (the rest were there already)",
		r.CandlesCopied, r.Candles, r.GapsCopied, r.Gaps, r.ConnectsCopied, r.Connects)
}

// pageRows is how many candles one read and one write cover.
const pageRows = 5000

// Copy copies src into dst: every series a page at a time, then the gap
// ledger (origin names src, so its entries are recognised when copied
// again), then the connect log. A bar is drawn on w when it is a
// terminal.
func Copy(ctx context.Context, src Source, dst Target, origin string, w io.Writer) (Report, error) {
	var r Report
	var err error
	if r.Candles, err = src.Count(ctx); err != nil {
		return r, err
	}
	series, err := src.Series(ctx)
	if err != nil {
		return r, err
	}
	bar := progress.New(w, 0, r.Candles, func(n int64) string { return fmt.Sprintf("%d of %d candles", n, r.Candles) })
	var read int64
	for _, sr := range series {
		for from := int64(-1 << 62); ; {
			cs, err := src.Page(ctx, sr.Market, sr.Interval, from, 1<<62, pageRows)
			if err != nil || len(cs) == 0 {
				if err != nil {
					return r, err
				}
				break
			}
			n, err := dst.Import(ctx, cs)
			if err != nil {
				return r, err
			}
			r.CandlesCopied += int64(n)
			read += int64(len(cs))
			bar.Update(read)
			from = cs[len(cs)-1].OpenTime + sr.Interval.Millis()
		}
	}
	bar.Done()
	return r, copyLedgers(ctx, src, dst, origin, &r)
}

// copyLedgers copies the gap ledger and the connect log.
func copyLedgers(ctx context.Context, src Source, dst Target, origin string, r *Report) error {
	gs, err := src.AllGaps(ctx)
	if err != nil {
		return err
	}
	r.Gaps = len(gs)
	if r.GapsCopied, err = dst.ImportGaps(ctx, origin, gs); err != nil {
		return err
	}
	cs, err := src.AllConnects(ctx)
	if err != nil {
		return err
	}
	r.Connects = len(cs)
	r.ConnectsCopied, err = dst.ImportConnects(ctx, cs)
	return err
}
