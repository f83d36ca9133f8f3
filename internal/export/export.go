package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// pageRows is how many candles one read covers.
const pageRows = 10_000

// Pager reads stored candles a page at a time (store.Candles does).
type Pager interface {
	Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error)
}

// Stream reads m's candles of interval iv in [from, to) a page at a time
// and hands each to write, so memory stays flat and an open-ended range
// costs nothing.
func Stream(ctx context.Context, st Pager, m market.Market, iv market.Interval, from, to int64, write func(market.Candle) error) error {
	for from < to {
		cs, err := st.Page(ctx, m, iv, from, to, pageRows)
		if err != nil || len(cs) == 0 {
			return err
		}
		for _, c := range cs {
			if err := write(c); err != nil {
				return err
			}
		}
		from = cs[len(cs)-1].OpenTime + iv.Millis()
	}
	return nil
}

// Writer writes candles to w as CSV (with a header); for format "jsonl",
// as JSON lines (the native wire form); for "text", as one line a person
// reads (`candlewire watch`).
func Writer(w *bufio.Writer, format string) func(market.Candle) error {
	switch format {
	case "text":
		return func(c market.Candle) error {
			_, err := fmt.Fprintf(w, "%s %s %-3s o=%s h=%s l=%s c=%s v=%s n=%d %s rev=%d (%s)\n",
				time.UnixMilli(c.OpenTime).UTC().Format(time.RFC3339), c.Market, c.Interval, c.Open, c.High, c.Low, c.Close,
				c.Volume, c.Trades, c.State, c.Rev, c.Source)
			return err
		}
	case "jsonl":
		return func(c market.Candle) error {
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			w.Write(b)
			return w.WriteByte('\n')
		}
	}
	cw := csv.NewWriter(w)
	header := false
	return func(c market.Candle) error {
		if !header {
			header = true
			cw.Write(market.CSVHeader)
		}
		cw.Write(c.CSVRecord())
		cw.Flush()
		return cw.Error()
	}
}
