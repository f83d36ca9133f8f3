package okx

import (
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/okx/okxsim"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Driver is everything candlewire knows about OKX spot.
var Driver = exchange.Driver{
	Name:          Venue,
	WSURL:         DefaultWSURL,
	RESTURL:       "https://www.okx.com",
	Connects:      ConnectsPerWindow,
	ConnectWindow: ConnectWindow,
	RESTRate:      RequestsPerSecond,
	RESTBurst:     5,
	Grace:         20 * time.Second, // finals and trades come on two connections, which may drift apart
	Silence:       30 * time.Second, // OKX cuts a connection idle for 30 s
	Bins:          candle.Options{Unmergeable: true, NoCount: true},
	LateFinals:    true,
	NewFeed: func(ep config.Venue, link upstream.Config) (collector.Feed, error) {
		half := ep.SilenceTimeout / 2 // a ping after half, the other half for its pong
		return NewFeed(Config{WSURL: ep.WSURL, Idle: half, PongWait: half, Config: link}), nil
	},
	NewREST: func(base string, h *upstream.HTTP) (exchange.REST, error) { return &REST{Base: base, HTTP: h}, nil },
	Example: func(ep config.Venue, symbol string) string {
		return fmt.Sprintf("%s/ws/v5/business (candle1m %s) and %s/ws/v5/public (trades %s)", ep.WSURL, symbol, ep.WSURL, symbol)
	},
	Sim: exchange.Sim{
		Mount:       func(s *sim.Server, prefix string) { okxsim.Mount(s, prefix) },
		Spec:        okxsim.Spec,
		Symbol:      "BTC-USDT",
		BenchSymbol: func(i int) string { return fmt.Sprintf("C%d-USDT", i) },
		Convention:  oracle.Convention{NoCount: true},
	},
}
