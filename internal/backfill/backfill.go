package backfill

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/market"
	"golang.org/x/term"
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

// Progress draws a bar on a terminal and stays quiet otherwise.
type Progress struct {
	w        io.Writer
	tty      bool
	from, to int64
	last     time.Time
}

// NewProgress is a bar for [from, to) on w.
func NewProgress(w io.Writer, from, to int64) *Progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &Progress{w: w, tty: tty, from: from, to: to}
}

// Update moves the bar to upTo.
func (p *Progress) Update(upTo int64) {
	if !p.tty || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	frac := float64(upTo-p.from) / float64(p.to-p.from)
	n := int(frac * 40)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %s", strings.Repeat("#", n), strings.Repeat(" ", 40-n), frac*100, time.UnixMilli(upTo).UTC().Format(time.RFC3339))
}

// Done draws the bar full and ends its line.
func (p *Progress) Done() {
	if p.tty {
		p.last = time.Time{}
		p.Update(p.to)
		fmt.Fprintln(p.w)
	}
}
