package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// exportRows is how many candles one read covers.
const exportRows = 10_000

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	mk := fs.String("market", market.Default.String(), "market, venue:SYMBOL")
	ivS := fs.String("interval", "1m", "interval: 1m 3m 5m 15m 30m 1h 2h 4h 1d")
	fromS := fs.String("from", "0", "start time")
	toS := fs.String("to", "now", "end time")
	format := fs.String("format", "csv", "csv or jsonl")
	db := fs.String("db", "./candlewire.db", "SQLite database file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := market.ParseMarket(*mk)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	iv, err := market.ParseInterval(*ivS)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	now := time.Now()
	from, err := parseTime(*fromS, now)
	if err != nil {
		return err
	}
	to, err := parseTime(*toS, now)
	if err != nil {
		return err
	}
	if *format != "csv" && *format != "jsonl" {
		return fmt.Errorf("%w: --format must be csv or jsonl", errUsage)
	}
	if _, err := os.Stat(*db); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	st, err := sqlite.Open(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	write := candleWriter(out, *format)
	step := exportRows * iv.Millis()
	for a := iv.Truncate(from); a < to; a += step {
		cs, err := st.Candles(ctx, m, iv, a, min(a+step, to))
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := write(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// csvHeader names the columns, the fields of the native wire format.
var csvHeader = []string{"venue", "symbol", "interval", "t", "o", "h", "l", "c", "v", "q", "n", "final", "rev"}

func candleWriter(w *bufio.Writer, format string) func(market.Candle) error {
	if format == "jsonl" {
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
			cw.Write(csvHeader)
		}
		cw.Write([]string{c.Market.Venue, c.Market.Symbol, string(c.Interval), strconv.FormatInt(c.OpenTime, 10),
			c.Open.String(), c.High.String(), c.Low.String(), c.Close.String(), c.Volume.String(), c.Quote.String(),
			strconv.FormatInt(c.Trades, 10), strconv.FormatBool(c.Final()), strconv.FormatInt(c.Rev, 10)})
		cw.Flush()
		return cw.Error()
	}
}
