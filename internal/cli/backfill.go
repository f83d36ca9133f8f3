package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// backfillChunk is how much history one fetch-and-store step covers.
const backfillChunk = 24 * time.Hour

func backfillCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backfill", stderr)
	mk := fs.String("market", market.Default.String(), "market, venue:SYMBOL")
	fromS := fs.String("from", "", "start time (required)")
	toS := fs.String("to", "now", "end time")
	db := fs.String("db", "./candlewire.db", "SQLite database file")
	cfgPath := fs.String("config", "", "YAML config file (for venue endpoints)")
	useSim := fs.Bool("sim", false, "backfill from an in-process simulator")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := market.ParseMarket(*mk)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *fromS == "" {
		return fmt.Errorf("%w: --from is required", errUsage)
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
	from, to = market.I1m.Truncate(from), market.I1m.Truncate(to)
	if to <= from {
		return fmt.Errorf("%w: --to must be after --from", errUsage)
	}
	log := newLogger(stderr, "warn")
	eps := endpoints{}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		eps = endpoints(cfg.Venues)
	}
	var stopSim func()
	if *useSim {
		if eps, stopSim, err = inProcessSim(sim.Config{Seed: 1, Logger: log}, log); err != nil {
			return err
		}
		defer stopSim()
	}
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	met := metrics.Discard()
	fetch, err := buildFetcher(m.Venue, eps, client, log, met)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	w := collector.NewWriter(st, nil, log, met, 0)
	bar := newProgress(stderr, from, to)
	stored := 0
	for a := from; a < to; a += backfillChunk.Milliseconds() {
		b := min(a+backfillChunk.Milliseconds(), to)
		cs, err := fetch.Candles(ctx, m, a, b, bar.update)
		if len(cs) > 0 {
			res, werr := w.WriteNow(ctx, cs)
			if werr != nil {
				return werr
			}
			stored += len(res.Changed)
		}
		if err != nil {
			bar.done()
			return err
		}
		bar.update(b)
	}
	bar.done()
	fmt.Fprintf(stdout, "backfilled %s %s .. %s: %d minutes fetched and stored (%d new or changed rows)\n",
		m, fmtTime(from), fmtTime(to), (to-from)/60_000, stored)
	return nil
}

// progress draws a bar on a terminal and stays quiet otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	from, to int64
	last     time.Time
}

func newProgress(w io.Writer, from, to int64) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty, from: from, to: to}
}

func (p *progress) update(upTo int64) {
	if !p.tty || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	frac := float64(upTo-p.from) / float64(p.to-p.from)
	n := int(frac * 40)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %s", strings.Repeat("#", n), strings.Repeat(" ", 40-n), frac*100, fmtTime(upTo))
}

func (p *progress) done() {
	if p.tty {
		p.last = time.Time{}
		p.update(p.to)
		fmt.Fprintln(p.w)
	}
}
