package registry

import (
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/exchange"
)

// TestEveryVenueIsComplete: the built-in drivers pass the checks Register
// makes, in registry order, with distinct names.
func TestEveryVenueIsComplete(t *testing.T) {
	var have []exchange.Driver
	for _, d := range All() {
		if err := check(have, d); err != nil {
			t.Error(err)
		}
		have = append(have, d)
	}
	if got := strings.Join(Names(), ","); got != "binance,bitmex,okx,bybit,kraken,coinbase" {
		t.Errorf("Names() = %s", got)
	}
	if _, err := Lookup("nowhere"); err == nil || !strings.Contains(err.Error(), "supported: binance, bitmex, bybit, coinbase, kraken, okx") {
		t.Errorf("Lookup of an unknown venue: %v", err)
	}
}

// TestRegisterRefuses: a driver that is incomplete, badly named or named
// like a registered one is refused, and the registry is unchanged.
func TestRegisterRefuses(t *testing.T) {
	ok := All()[0]
	ok.Name = "fresh"
	cases := []struct {
		name string
		edit func(*exchange.Driver)
		want string
	}{
		{"duplicate", func(d *exchange.Driver) { d.Name = "binance" }, "registered already"},
		{"upper case", func(d *exchange.Driver) { d.Name = "Fresh" }, "lower case"},
		{"colon", func(d *exchange.Driver) { d.Name = "a:b" }, "lower case"},
		{"no feed", func(d *exchange.Driver) { d.NewFeed = nil }, "no feed"},
		{"no simulator", func(d *exchange.Driver) { d.Sim.Mount = nil }, "no simulator"},
		{"no limits", func(d *exchange.Driver) { d.Connects = 0 }, "no connect limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ok
			c.edit(&d)
			if err := Register(d); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Register: %v, want an error saying %q", err, c.want)
			}
			if len(All()) != 6 {
				t.Fatalf("the registry changed: %v", Names())
			}
		})
	}
}
