package kraken

import (
	"fmt"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/kraken/krakensim"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Driver is everything candlewire knows about Kraken spot (WebSocket v2).
var Driver = exchange.Driver{
	Name:          Venue,
	WSURL:         DefaultWSURL,
	RESTURL:       "https://api.kraken.com",
	Connects:      ConnectsPerWindow,
	ConnectWindow: ConnectWindow,
	RESTRate:      RequestsPerSecond,
	RESTBurst:     3,
	Grace:         30 * time.Second, // a window is final when a later one has trades: wait for one before REST
	Silence:       10 * time.Second,
	Bins:          candle.Options{Unmergeable: true},
	Refills:       true,
	LateFinals:    true,
	NewFeed: func(ep config.Venue, link upstream.Config) (collector.Feed, error) {
		return NewFeed(Config{WSURL: ep.WSURL, Silence: ep.SilenceTimeout, Config: link}), nil
	},
	NewREST: func(base string, h *upstream.HTTP) (exchange.REST, error) { return &REST{Base: base, HTTP: h}, nil },
	Example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s (ohlc and trade of %s)", ep.WSURL, strings.Replace(symbol, "-", "/", 1))
	},
	Sim: exchange.Sim{
		Mount:       func(s *sim.Server, prefix string) { krakensim.Mount(s, prefix) },
		WSPath:      "/v2",
		Spec:        krakensim.Spec,
		Symbol:      "BTC-USD",
		BenchSymbol: func(i int) string { return fmt.Sprintf("C%d-USD", i) },
		Convention:  oracle.Convention{VWAPPlaces: 5},
		Heartbeat:   krakensim.Heartbeat,
	},
}
