package instrument

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

// TestLoad: markets their venue lists are found, one it does not list is
// refused naming the listed look-alikes, and a venue whose list cannot be
// read leaves its markets unchecked.
func TestLoad(t *testing.T) {
	btc := market.Market{Venue: "a", Symbol: "BTCUSDT"}
	in, err := New(btc, "BTC", "USDT", "0.01", "0.00001", true)
	if err != nil {
		t.Fatal(err)
	}
	read := func(_ context.Context, venue string) (List, error) {
		if venue == "down" {
			return nil, errors.New("unreachable")
		}
		return List{in}, nil
	}
	log := slog.New(slog.DiscardHandler)
	cases := []struct {
		name  string
		ms    []market.Market
		found int
		bad   string
	}{
		{"listed", []market.Market{btc}, 1, ""},
		{"unreadable list", []market.Market{{Venue: "down", Symbol: "X"}}, 0, ""},
		{"unlisted", []market.Market{btc, {Venue: "a", Symbol: "BTCUSD"}}, 0, "not listed by its venue: a:BTCUSD (listed: BTCUSDT)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Load(context.Background(), c.ms, read, log)
			switch {
			case c.bad != "" && (!errors.Is(err, ErrUnlisted) || !strings.Contains(err.Error(), c.bad)):
				t.Fatalf("err %v, want one saying %q", err, c.bad)
			case c.bad == "" && (err != nil || len(got) != c.found):
				t.Fatalf("found %d (%v), want %d", len(got), err, c.found)
			}
		})
	}
}
