package exchange

import (
	"context"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Driver is one venue: its endpoints, limits and candle conventions, and
// how to build its feed, its REST client and its simulator front-end.
type Driver struct {
	Name string
	// WSURL and RESTURL are the venue's own endpoints, used when the
	// config sets none ("" for none: BitMEX has closed).
	WSURL, RESTURL string
	// Connects per ConnectWindow is the venue's connect limit, the budget
	// when the config sets no connect_budget (which counts per hour).
	Connects      int
	ConnectWindow time.Duration
	// RESTRate is the REST request weight per second we spend, RESTBurst
	// its burst.
	RESTRate  rate.Limit
	RESTBurst int
	Grace     time.Duration  // how late a final may be, in exchange time
	Silence   time.Duration  // the feed's silence timeout when the config sets none
	Bins      candle.Options // what the venue's bins carry
	// TradesOnly: the venue publishes no bins (collector.Venue.TradesOnly).
	TradesOnly bool
	// Refills: a resubscribe's snapshot refills an outage of up to its
	// depth over WebSocket, so a fault may leave no gap to repair.
	Refills bool
	// LateFinals: a final may come after its grace as a matter of course
	// (on another connection than the trades, or only once a later minute
	// trades), so an overdue repair is routine.
	LateFinals bool
	// NewFeed builds the feed from the venue's settings (URLs and timeouts
	// defaulted) and the shared connection settings.
	NewFeed func(ep config.Venue, link upstream.Config) (collector.Feed, error)
	// NewREST builds the REST client for base over h.
	NewREST func(base string, h *upstream.HTTP) (REST, error)
	// Example says what the feed subscribes to for one symbol (for logs
	// and `markets`).
	Example func(ep config.Venue, symbol string) string
	Sim     Sim
}

// REST is a venue's REST client: 1m candles and the instrument list.
type REST interface {
	collector.Fetcher
	Instruments(ctx context.Context) (instrument.List, error)
}

// Sim is how the simulator plays the venue.
type Sim struct {
	// Mount serves the venue's WebSocket and REST at prefix on s.
	Mount func(s *sim.Server, prefix string)
	// WSPath is the WebSocket endpoint below the prefix (REST is at the
	// prefix itself).
	WSPath string
	Spec   func(symbol string) sim.Spec
	// Shutdown: the front-end announces a planned shutdown before it
	// closes (sim.FaultShutdown), as the venue does.
	Shutdown bool
	// Symbol is the venue's demo instrument; BenchSymbol names the i-th
	// synthetic one (bench collect).
	Symbol      string
	BenchSymbol func(i int) string
	// Convention is how the venue builds bins from trades, for the
	// independent check of stored candles against the trade log.
	Convention oracle.Convention
	// Heartbeat is how long, in real time, the front-end stays quiet
	// before it sends a keep-alive of its own (Kraken's heartbeat); 0
	// when it keeps none. A silence timeout must outlast it.
	Heartbeat time.Duration
}

// Endpoint is ep with the venue's own URLs where ep sets none.
func (d Driver) Endpoint(ep config.Venue) config.Venue {
	if ep.WSURL == "" {
		ep.WSURL = d.WSURL
	}
	if ep.RESTURL == "" {
		ep.RESTURL = d.RESTURL
	}
	return ep
}

// SilenceOf is ep's silence timeout, or the venue's default.
func (d Driver) SilenceOf(ep config.Venue) time.Duration {
	if ep.SilenceTimeout > 0 {
		return ep.SilenceTimeout
	}
	return d.Silence
}

// Budget is the venue's connect budget: connect_budget per hour when the
// config sets one, else the venue's own limit.
func (d Driver) Budget(ep config.Venue) *upstream.Budget {
	if ep.ConnectBudget > 0 {
		return upstream.NewBudget(ep.ConnectBudget, time.Hour, nil)
	}
	return upstream.NewBudget(d.Connects, d.ConnectWindow, nil)
}

// Limiter is a new REST rate limiter at the venue's rate.
func (d Driver) Limiter() *rate.Limiter { return rate.NewLimiter(d.RESTRate, d.RESTBurst) }

// Client builds the venue's REST client over h, at ep's REST URL or the
// venue's own.
func (d Driver) Client(ep config.Venue, h *upstream.HTTP) (REST, error) {
	return d.NewREST(strings.TrimRight(d.Endpoint(ep).RESTURL, "/"), h)
}

// Feed builds the venue's feed at ep's WebSocket URL or the venue's own.
func (d Driver) Feed(ep config.Venue, link upstream.Config) (collector.Feed, error) {
	return d.NewFeed(d.Endpoint(ep), link)
}

// MountSim serves the venue's simulator front-end on s at /<venue>.
func (d Driver) MountSim(s *sim.Server) { d.Sim.Mount(s, "/"+d.Name) }

// SimEndpoint is where a simulator at host (host:port), with the venue
// mounted by MountSim, serves it.
func (d Driver) SimEndpoint(host string) config.Venue {
	return config.Venue{WSURL: "ws://" + host + "/" + d.Name + d.Sim.WSPath, RESTURL: "http://" + host + "/" + d.Name}
}

// Demo is the venue's demo market, venue:Sim.Symbol.
func (d Driver) Demo() market.Market { return market.Market{Venue: d.Name, Symbol: d.Sim.Symbol} }
