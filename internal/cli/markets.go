package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/node"
)

// marketsCmd runs `candlewire markets VENUE`: the venue's instrument list.
func marketsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("markets", stderr)
	asJSON := fs.Bool("json", false, "print JSON lines")
	asList := fs.Bool("list", false, "print the trading markets as a markets file (venue:SYMBOL a line), for run --markets-file")
	quote := fs.String("quote", "", "only the markets quoted in this currency (USDT, USD, …)")
	var vf venueFlags
	vf.register(fs, "list an in-process simulator's instruments", 0)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: markets needs one venue (%s)", errUsage, strings.Join(slices.Sorted(slices.Values(registry.Names())), ", "))
	}
	venue := rest[0]
	if _, err := registry.Lookup(venue); err != nil {
		return err
	}
	_, eps, err := vf.load()
	if err != nil {
		return err
	}
	eps, stop, err := vf.start(eps, newLogger(stderr, "warn"))
	if err != nil {
		return err
	}
	defer stop()
	client := node.NewHTTPClient()
	defer client.CloseIdleConnections()
	list, err := eps.List(ctx, venue, client, metrics.Discard())
	if err != nil {
		return err
	}
	if *quote != "" {
		list = slices.DeleteFunc(list, func(in instrument.Instrument) bool { return !strings.EqualFold(in.Quote, *quote) })
	}
	switch {
	case *asJSON:
		return list.WriteJSON(stdout)
	case *asList:
		fmt.Fprintf(stdout, "# %s markets trading now%s; keep the ones to collect (run --markets-file FILE)\n", venue, quoted(*quote))
		for _, in := range list {
			if in.Trading {
				fmt.Fprintln(stdout, in.Market)
			}
		}
		return nil
	}
	return list.WriteTable(stdout)
}

// quoted names a quote filter for a heading: "" or " quoted in USDT".
func quoted(q string) string {
	if q == "" {
		return ""
	}
	return " quoted in " + strings.ToUpper(q)
}
