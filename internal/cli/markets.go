package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
)

// listTimeout bounds loading one venue's list at start.
const listTimeout = 10 * time.Second

// fetchList reads one venue's instrument list.
func fetchList(ctx context.Context, venue string, eps endpoints, client *http.Client, met *metrics.Metrics) (instrument.List, error) {
	d, err := driver(venue)
	if err != nil {
		return nil, err
	}
	// One attempt, quietly: offline, the start must not wait out retries;
	// the caller says once why the list is missing.
	l, err := restDeps{client: client, log: slog.New(slog.DiscardHandler), met: met, retries: -1}.rest(d, eps[venue])
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	return l.Instruments(ctx)
}

// errUnlisted is a configured market its venue does not list.
var errUnlisted = errors.New("not listed")

// loadInstruments reads the lists of the venues of ms, all at once, and
// checks ms against them: a market its venue does not list is a
// configuration mistake. A venue whose list cannot be read is logged and
// not checked (it may be down now and up later; collecting retries on its
// own).
func loadInstruments(ctx context.Context, ms []market.Market, eps endpoints, client *http.Client, log *slog.Logger,
	met *metrics.Metrics) (map[market.Market]instrument.Instrument, error) {
	lists := map[string]instrument.List{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range ms {
		if _, ok := lists[m.Venue]; ok {
			continue
		}
		lists[m.Venue] = nil
		wg.Add(1)
		go func(venue string) {
			defer wg.Done()
			list, err := fetchList(ctx, venue, eps, client, met)
			if err != nil {
				log.Warn("cannot read the venue's instrument list; its markets are not checked", "venue", venue, "err", err)
				return
			}
			mu.Lock()
			lists[venue] = list
			mu.Unlock()
		}(m.Venue)
	}
	wg.Wait()
	return checkListed(ms, lists, log)
}

// checkListed finds each market in its venue's list (nil: not checked).
func checkListed(ms []market.Market, lists map[string]instrument.List, log *slog.Logger) (map[market.Market]instrument.Instrument, error) {
	out := map[market.Market]instrument.Instrument{}
	var bad []string
	for _, m := range ms {
		list := lists[m.Venue]
		if list == nil {
			continue
		}
		in, ok := list.Find(m)
		switch {
		case !ok:
			msg := m.String()
			if like := list.Like(m.Symbol, 5); len(like) > 0 {
				msg += " (listed: " + strings.Join(like, ", ") + ")"
			}
			bad = append(bad, msg)
			continue
		case !in.Trading:
			log.Warn("market is listed but not trading now", "market", m)
		}
		out[m] = in
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %w by its venue: %s (candlewire markets VENUE lists them)", errUsage, errUnlisted, strings.Join(bad, "; "))
	}
	return out, nil
}

// marketsCmd runs `candlewire markets VENUE`: the venue's instrument list.
func marketsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("markets", stderr)
	cfgPath := fs.String("config", "", "YAML config file (for venue endpoints)")
	useSim := fs.Bool("sim", false, "list an in-process simulator's instruments")
	asJSON := fs.Bool("json", false, "print JSON lines")
	var urls urlOverrides
	urls.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: markets needs one venue (%s)", errUsage, strings.Join(slices.Sorted(slices.Values(registry.Names())), ", "))
	}
	venue := fs.Arg(0)
	if _, err := driver(venue); err != nil {
		return err
	}
	eps := endpoints{}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		eps = endpoints(cfg.Venues)
	}
	eps = urls.apply(eps)
	log := newLogger(stderr, "warn")
	if *useSim {
		var simSrv *simServer
		var err error
		if eps, simSrv, err = eps.inProcessSim(sim.Config{Seed: 1, Logger: log}, log); err != nil {
			return err
		}
		defer simSrv.start()()
	}
	client := newHTTPClient()
	defer client.CloseIdleConnections()
	list, err := fetchList(ctx, venue, eps, client, metrics.Discard())
	if err != nil {
		return err
	}
	return printList(stdout, list, *asJSON)
}

func printList(w io.Writer, list instrument.List, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, in := range list {
			p, s := in.Scale()
			if err := enc.Encode(map[string]any{"market": in.Market.String(), "base": in.Base, "quote": in.Quote, "tick": in.Tick.String(),
				"lot": in.Lot.String(), "price_places": p, "size_places": s, "trading": in.Trading}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MARKET\tBASE\tQUOTE\tTICK\tLOT\tTRADING")
	for _, in := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", in.Market, in.Base, in.Quote, in.Tick, in.Lot, in.Trading)
	}
	return tw.Flush()
}
