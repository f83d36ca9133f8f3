package bybit

import (
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/bybit/bybitsim"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Driver is everything candlewire knows about Bybit spot.
var Driver = exchange.Driver{
	Name:          Venue,
	WSURL:         DefaultWSURL,
	RESTURL:       "https://api.bybit.com",
	Connects:      ConnectsPerWindow,
	ConnectWindow: ConnectWindow,
	RESTRate:      RequestsPerSecond,
	RESTBurst:     10,
	Grace:         10 * time.Second,
	Silence:       30 * time.Second,
	Bins:          candle.Options{Unmergeable: true, NoCount: true},
	NewFeed: func(ep config.Venue, link upstream.Config) (collector.Feed, error) {
		return NewFeed(Config{WSURL: ep.WSURL, PingEvery: ep.SilenceTimeout / 2, Silence: ep.SilenceTimeout, Config: link}), nil
	},
	NewREST: func(base string, h *upstream.HTTP) (exchange.REST, error) { return &REST{Base: base, HTTP: h}, nil },
	Example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s (kline.1.%s, publicTrade.%s)", ep.WSURL, symbol, symbol)
	},
	Sim: exchange.Sim{
		Mount:       func(s *sim.Server, prefix string) { bybitsim.Mount(s, prefix) },
		WSPath:      "/v5/public/spot",
		Spec:        bybitsim.Spec,
		Symbol:      "BTCUSDT",
		BenchSymbol: func(i int) string { return fmt.Sprintf("C%dUSDT", i) },
		Convention:  oracle.Convention{NoCount: true},
	},
}
