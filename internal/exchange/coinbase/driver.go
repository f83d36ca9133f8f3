package coinbase

import (
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/coinbase/coinbasesim"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Driver is everything candlewire knows about Coinbase Exchange.
var Driver = exchange.Driver{
	Name:          Venue,
	WSURL:         DefaultWSURL,
	RESTURL:       "https://api.exchange.coinbase.com",
	Connects:      ConnectsPerWindow,
	ConnectWindow: ConnectWindow,
	RESTRate:      RequestsPerSecond,
	RESTBurst:     10,
	Grace:         10 * time.Second, // a minute is final at the next match or heartbeat (one a second)
	Silence:       10 * time.Second,
	TradesOnly:    true,
	NewFeed: func(ep config.Venue, link upstream.Config) (collector.Feed, error) {
		return NewFeed(Config{WSURL: ep.WSURL, Silence: ep.SilenceTimeout, Config: link}), nil
	},
	NewREST: func(base string, h *upstream.HTTP) (exchange.REST, error) { return &REST{Base: base, HTTP: h}, nil },
	Example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s (matches and heartbeat of %s)", ep.WSURL, symbol)
	},
	Sim: exchange.Sim{
		Mount:       func(s *sim.Server, prefix string) { coinbasesim.Mount(s, prefix) },
		Spec:        coinbasesim.Spec,
		Symbol:      "BTC-USD",
		BenchSymbol: func(i int) string { return fmt.Sprintf("C%d-USD", i) },
		Convention:  oracle.Convention{},
	},
}
