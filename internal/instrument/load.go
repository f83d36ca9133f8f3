package instrument

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/candlewire/candlewire/internal/market"
)

// ErrUnlisted is a configured market its venue does not list.
var ErrUnlisted = errors.New("not listed")

// Load reads the lists of the venues of ms with read, all at once, and
// checks ms against them: a market its venue does not list is a
// configuration mistake (ErrUnlisted). A venue whose list cannot be read
// is logged and its markets not checked (it may be down now and up later;
// collecting retries on its own).
func Load(ctx context.Context, ms []market.Market, read func(ctx context.Context, venue string) (List, error),
	log *slog.Logger) (map[market.Market]Instrument, error) {
	lists := map[string]List{} // written by the readers, under mu
	var mu sync.Mutex
	var wg sync.WaitGroup
	asked := map[string]bool{} // the loop's own
	for _, m := range ms {
		if asked[m.Venue] {
			continue
		}
		asked[m.Venue] = true
		wg.Add(1)
		go func(venue string) {
			defer wg.Done()
			list, err := read(ctx, venue)
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
	return check(ms, lists, log)
}

// check finds each market in its venue's list (nil: not checked).
func check(ms []market.Market, lists map[string]List, log *slog.Logger) (map[market.Market]Instrument, error) {
	out := map[market.Market]Instrument{}
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
		return nil, fmt.Errorf("%w by its venue: %s", ErrUnlisted, strings.Join(bad, "; "))
	}
	return out, nil
}

// WriteJSON writes the list as JSON lines.
func (l List) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, in := range l {
		p, s := in.Scale()
		if err := enc.Encode(map[string]any{"market": in.Market.String(), "base": in.Base, "quote": in.Quote, "tick": in.Tick.String(),
			"lot": in.Lot.String(), "price_places": p, "size_places": s, "trading": in.Trading}); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable writes the list as an aligned table.
func (l List) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MARKET\tBASE\tQUOTE\tTICK\tLOT\tTRADING")
	for _, in := range l {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", in.Market, in.Base, in.Quote, in.Tick, in.Lot, in.Trading)
	}
	return tw.Flush()
}
