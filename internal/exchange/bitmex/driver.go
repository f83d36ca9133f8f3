package bitmex

import (
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexsim"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Driver is everything candlewire knows about the BitMEX protocol. BitMEX
// itself has closed: it has no endpoints of its own, and a BitMEX-protocol
// endpoint must be configured.
var Driver = exchange.Driver{
	Name:          Venue,
	Connects:      DefaultConnectsPerHour,
	ConnectWindow: time.Hour,
	RESTRate:      RequestsPerSecond,
	RESTBurst:     5,
	Grace:         45 * time.Second, // bins are published about 15 s after the minute
	Silence:       10 * time.Second, // a ping after 5 s, 5 s for the pong
	NewFeed: func(ep config.Venue, link upstream.Config) (collector.Feed, error) {
		half := ep.SilenceTimeout / 2 // a ping after half, the other half for its pong
		return NewFeed(Config{WSURL: ep.WSURL, Idle: half, PongWait: half, Config: link})
	},
	NewREST: func(base string, h *upstream.HTTP) (exchange.REST, error) {
		if base == "" {
			return nil, ErrNoEndpoint
		}
		return &REST{Base: base, HTTP: h}, nil
	},
	Example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s?subscribe=tradeBin1m:%s,trade:%s", ep.WSURL, symbol, symbol)
	},
	Sim: exchange.Sim{
		Mount:       func(s *sim.Server, prefix string) { bitmexsim.Mount(s, prefix) },
		WSPath:      "/realtime",
		Spec:        bitmexsim.Spec,
		Symbol:      "XBTUSD",
		BenchSymbol: func(i int) string { return fmt.Sprintf("C%dUSD", i) },
		Convention:  oracle.Convention{OpenIsPrevClose: true},
	},
}
