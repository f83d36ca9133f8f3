package node

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
)

// TestInstrumentListsFromSimulators reads every venue's instrument list
// from its simulator over REST: the well-known markets and the synthetic
// ones are listed, with the tick and lot of the simulator's own specs.
func TestInstrumentListsFromSimulators(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1})
	srv := httptest.NewServer(s)
	defer srv.Close()
	eps := SimEndpoints(s, strings.TrimPrefix(srv.URL, "http://"))
	client := NewHTTPClient()
	defer client.CloseIdleConnections()
	for _, d := range registry.All() {
		venue := d.Name
		t.Run(venue, func(t *testing.T) {
			list, err := eps.List(context.Background(), venue, client, metrics.Discard())
			if err != nil {
				t.Fatal(err)
			}
			m := d.Demo()
			in, ok := list.Find(m)
			sp := d.Sim.Spec(m.Symbol)
			if !ok || !in.Trading || !in.Tick.Equal(sp.TickSize()) || len(list) < sim.Synthetic {
				t.Fatalf("%s: %+v (found %v), want tick %s; %d listed", m, in, ok, sp.TickSize(), len(list))
			}
			// A venue may list lot decimals (Kraken), a step finer than the
			// simulator's lot, but never a coarser one.
			if in.Lot.GreaterThan(sp.LotSize()) {
				t.Errorf("%s: lot %s, want %s", m, in.Lot, sp.LotSize())
			}
		})
	}
}
