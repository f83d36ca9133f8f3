package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/binance"
	"github.com/candlewire/candlewire/internal/exchange/bitmex"
	"github.com/candlewire/candlewire/internal/exchange/bybit"
	"github.com/candlewire/candlewire/internal/exchange/coinbase"
	"github.com/candlewire/candlewire/internal/exchange/kraken"
	"github.com/candlewire/candlewire/internal/exchange/okx"
)

// drivers, in the order venues are listed and collected. Adding a venue
// is its folder and one line here.
var drivers = []exchange.Driver{
	binance.Driver,
	bitmex.Driver,
	okx.Driver,
	bybit.Driver,
	kraken.Driver,
	coinbase.Driver,
}

// All returns every venue's driver, in registry order.
func All() []exchange.Driver { return slices.Clone(drivers) }

// Names returns every venue's name, in registry order.
func Names() []string {
	out := make([]string, len(drivers))
	for i, d := range drivers {
		out[i] = d.Name
	}
	return out
}

// Lookup returns the driver of venue name.
func Lookup(name string) (exchange.Driver, error) {
	for _, d := range drivers {
		if d.Name == name {
			return d, nil
		}
	}
	sorted := slices.Sorted(slices.Values(Names()))
	return exchange.Driver{}, fmt.Errorf("unknown venue %q (supported: %s)", name, strings.Join(sorted, ", "))
}
