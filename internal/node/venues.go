package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/upstream"
)

// listTimeout bounds loading one venue's list at start.
const listTimeout = 10 * time.Second

// Deps are what venue clients are built with.
type Deps struct {
	Client  *http.Client // REST requests; NewHTTPClient gives one with its own pool
	Log     *slog.Logger
	Metrics *metrics.Metrics
	Links   *upstream.Links // nil, or keeps the feeds' connection states
}

// NewHTTPClient returns a REST client with its own connection pool; the
// command closes its idle connections when it ends.
func NewHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// rest builds venue d's REST client at ep, under the venue's rate limit,
// with retries of each request (upstream.HTTP.Retries: 0 the default,
// negative none).
func (dp Deps) rest(d exchange.Driver, ep config.Venue, retries int) (exchange.REST, error) {
	h := &upstream.HTTP{Venue: d.Name, Client: dp.Client, Retries: retries, Limiter: d.Limiter(), Logger: dp.Log, Metrics: dp.Metrics}
	return d.Client(ep, h)
}

// link is the connection settings of venue d's feed at ep.
func link(d exchange.Driver, ep config.Venue, log *slog.Logger, met *metrics.Metrics, tap upstream.Tap) upstream.Config {
	return upstream.Config{Budget: d.Budget(ep), Backoff: upstream.Backoff{Max: ep.BackoffMax}, Logger: log, Metrics: met, Tap: tap}
}

// byVenue groups ms by venue, venues in the order they first appear.
func byVenue(ms []market.Market) (order []string, by map[string][]market.Market) {
	by = map[string][]market.Market{}
	for _, m := range ms {
		if _, ok := by[m.Venue]; !ok {
			order = append(order, m.Venue)
		}
		by[m.Venue] = append(by[m.Venue], m)
	}
	return order, by
}

// Venues makes the collector venues for ms, one per venue. Their connect
// budgets count the attempts kept in conns, and record theirs there.
func (e Endpoints) Venues(ctx context.Context, ms []market.Market, conns upstream.ConnectLog, dp Deps) ([]collector.Venue, error) {
	order, by := byVenue(ms)
	var out []collector.Venue
	for _, name := range order {
		d, err := registry.Lookup(name)
		if err != nil {
			return nil, err
		}
		ep := e[name]
		rest, err := Deps{Client: dp.Client, Log: dp.Log.With("component", "rest"), Metrics: dp.Metrics}.rest(d, ep, 0)
		if err != nil {
			return nil, err
		}
		flog := dp.Log.With("component", "feed")
		l := link(d, ep, flog, dp.Metrics, nil)
		l.Links = dp.Links
		if err := l.Budget.Persist(ctx, conns, name, flog); err != nil {
			return nil, err
		}
		feed, err := d.Feed(ep, l)
		if err != nil {
			return nil, err
		}
		out = append(out, collector.Venue{Name: name, Feed: feed, REST: rest, Markets: by[name], FinalGrace: d.Grace, Bins: d.Bins,
			TradesOnly: d.TradesOnly})
	}
	return out, nil
}

// Fetcher makes venue name's REST fetcher.
func (e Endpoints) Fetcher(name string, dp Deps) (collector.Fetcher, error) {
	d, err := registry.Lookup(name)
	if err != nil {
		return nil, err
	}
	return dp.rest(d, e[name], 0)
}

// List reads venue's instrument list: one attempt, quietly, so that an
// offline start does not wait out retries (the caller says once why the
// list is missing).
func (e Endpoints) List(ctx context.Context, venue string, client *http.Client, met *metrics.Metrics) (instrument.List, error) {
	d, err := registry.Lookup(venue)
	if err != nil {
		return nil, err
	}
	l, err := Deps{Client: client, Log: slog.New(slog.DiscardHandler), Metrics: met}.rest(d, e[venue], -1)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	return l.Instruments(ctx)
}

// Instruments reads the lists of the venues of ms, all at once, and
// checks ms against them (instrument.Load: a market its venue does not
// list is instrument.ErrUnlisted). Its requests count in met.
func (e Endpoints) Instruments(ctx context.Context, ms []market.Market, met *metrics.Metrics, log *slog.Logger) (map[market.Market]instrument.Instrument, error) {
	client := NewHTTPClient()
	defer client.CloseIdleConnections()
	read := func(ctx context.Context, venue string) (instrument.List, error) {
		return e.List(ctx, venue, client, met)
	}
	found, err := instrument.Load(ctx, ms, read, log)
	if err != nil {
		return nil, fmt.Errorf("%w (candlewire markets VENUE lists them)", err)
	}
	return found, nil
}
