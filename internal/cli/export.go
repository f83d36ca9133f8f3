package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/candlewire/candlewire/internal/export"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/node"
)

type exportOptions struct {
	market   market.Market
	interval market.Interval
	from, to int64
	format   string
	db       string
}

func parseExport(args []string, stderr io.Writer) (exportOptions, error) {
	fs := newFlags("export", stderr)
	mk := fs.String("market", market.Default.String(), "market, venue:SYMBOL")
	ivS := fs.String("interval", "1m", "interval: 1m 3m 5m 15m 30m 1h 2h 4h 1d")
	fromS := fs.String("from", "0", "start time")
	toS := fs.String("to", "", "end time (default: no end; simulated runs at --sim-speed above 1 store future times)")
	format := fs.String("format", "csv", "csv or jsonl")
	db := fs.String("db", "", dbUsage)
	if err := parseFlags(fs, args); err != nil {
		return exportOptions{}, err
	}
	o := exportOptions{format: *format, db: dbOf(*db, "")}
	var err error
	if o.market, err = parseMarket(*mk); err != nil {
		return o, err
	}
	if o.interval, err = market.ParseInterval(*ivS); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.format != "csv" && o.format != "jsonl" {
		return o, fmt.Errorf("%w: --format must be csv or jsonl", errUsage)
	}
	// Every bin that opens in [from, to), the forming one included.
	if *toS == "" {
		*toS = strconv.FormatInt(math.MaxInt64/2, 10)
	}
	o.from, o.to, err = parseRange(*fromS, *toS)
	o.from = o.interval.Truncate(o.from)
	return o, err
}

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseExport(args, stderr)
	if err != nil {
		return err
	}
	st, err := node.OpenStore(ctx, o.db, true) // beside a running writer
	if err != nil {
		return err
	}
	defer st.Close()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	return export.Stream(ctx, st, o.market, o.interval, o.from, o.to, export.Writer(out, o.format))
}
