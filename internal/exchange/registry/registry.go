package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/binance"
	"github.com/candlewire/candlewire/internal/exchange/bitmex"
	"github.com/candlewire/candlewire/internal/exchange/bybit"
	"github.com/candlewire/candlewire/internal/exchange/coinbase"
	"github.com/candlewire/candlewire/internal/exchange/kraken"
	"github.com/candlewire/candlewire/internal/exchange/okx"
	"github.com/candlewire/candlewire/internal/sim"
)

// drivers, in the order venues are listed and collected. Adding a venue
// is its folder and one line here.
var drivers = mustAll(
	binance.Driver,
	bitmex.Driver,
	okx.Driver,
	bybit.Driver,
	kraken.Driver,
	coinbase.Driver,
)

// mu guards drivers against Register.
var mu sync.RWMutex

func mustAll(ds ...exchange.Driver) []exchange.Driver {
	var out []exchange.Driver
	for _, d := range ds {
		if err := check(out, d); err != nil {
			panic(err)
		}
		out = append(out, d)
	}
	return out
}

// Register adds a venue after the built-in ones: a program built with
// one more venue (a test's throwaway venue proves the registry open) calls
// it before it uses the registry.
func Register(d exchange.Driver) error {
	mu.Lock()
	defer mu.Unlock()
	if err := check(drivers, d); err != nil {
		return err
	}
	drivers = append(slices.Clip(drivers), d)
	return nil
}

// check refuses a driver that is incomplete or named like one in have.
func check(have []exchange.Driver, d exchange.Driver) error {
	switch {
	case d.Name == "" || strings.ToLower(d.Name) != d.Name || strings.ContainsAny(d.Name, ":/ "):
		return fmt.Errorf("venue name %q: want lower case, without ':', '/' or spaces", d.Name)
	case d.NewFeed == nil || d.NewREST == nil || d.Example == nil:
		return fmt.Errorf("venue %s: its driver builds no feed, REST client or example", d.Name)
	case d.Sim.Mount == nil || d.Sim.Spec == nil || d.Sim.Symbol == "" || d.Sim.BenchSymbol == nil:
		return fmt.Errorf("venue %s: its driver has no simulator front-end", d.Name)
	case d.Connects <= 0 || d.ConnectWindow <= 0 || d.RESTRate <= 0 || d.RESTBurst <= 0:
		return fmt.Errorf("venue %s: its driver has no connect limit or REST rate", d.Name)
	}
	for _, h := range have {
		if h.Name == d.Name {
			return fmt.Errorf("venue %s is registered already", d.Name)
		}
	}
	return nil
}

// All returns every venue's driver, in registry order.
func All() []exchange.Driver {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(drivers)
}

// Names returns every venue's name, in registry order.
func Names() []string {
	ds := All()
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name
	}
	return out
}

// ErrUnknown is a venue name no driver has.
var ErrUnknown = errors.New("unknown venue")

// Lookup returns the driver of venue name (ErrUnknown when none).
func Lookup(name string) (exchange.Driver, error) {
	for _, d := range All() {
		if d.Name == name {
			return d, nil
		}
	}
	sorted := slices.Sorted(slices.Values(Names()))
	return exchange.Driver{}, fmt.Errorf("%w %q (supported: %s)", ErrUnknown, name, strings.Join(sorted, ", "))
}

// MountSims serves every venue's simulator front-end on s (at /<venue>,
// exchange.Driver.MountSim).
func MountSims(s *sim.Server) {
	for _, d := range All() {
		d.MountSim(s)
	}
}
