package binance

import (
	"fmt"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/binance/binancesim"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Driver is everything candlewire knows about Binance spot.
var Driver = exchange.Driver{
	Name:          Venue,
	WSURL:         DefaultWSURL,
	RESTURL:       "https://api.binance.com",
	Connects:      ConnectsPerWindow,
	ConnectWindow: ConnectWindow,
	RESTRate:      DefaultWeightPerSecond,
	RESTBurst:     200,
	Grace:         10 * time.Second,
	Silence:       60 * time.Second,
	NewFeed: func(ep config.Venue, link upstream.Config) (collector.Feed, error) {
		return NewFeed(Config{WSURL: ep.WSURL, Silence: ep.SilenceTimeout, Config: link}), nil
	},
	NewREST: func(base string, h *upstream.HTTP) (exchange.REST, error) { return &REST{Base: base, HTTP: h}, nil },
	Example: func(ep config.Venue, symbol string) string {
		s := strings.ToLower(symbol)
		return fmt.Sprintf("%s/stream?streams=%s@kline_1m/%s@aggTrade", ep.WSURL, s, s)
	},
	Sim: exchange.Sim{
		Mount:       func(s *sim.Server, prefix string) { binancesim.Mount(s, prefix) },
		Spec:        binancesim.Spec,
		Shutdown:    true,
		Symbol:      "BTCUSDT",
		BenchSymbol: func(i int) string { return fmt.Sprintf("C%dUSDT", i) },
		Convention:  oracle.Convention{CountFills: true},
	},
}
