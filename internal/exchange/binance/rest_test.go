package binance

import (
	"context"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/upstream"
)

// TestRESTPages fetches 1500 minutes, which takes two pages of at most
// 1000, and checks every minute arrives once, in order, reconciled.
func TestRESTPages(t *testing.T) {
	s, ep, _ := exchangetest.Sim(t, sim.Config{Seed: 9, Speed: 1, History: 30 * time.Hour}, Driver)
	r := &REST{Base: ep.RESTURL, HTTP: &upstream.HTTP{Venue: Venue}}
	to := market.I1m.Truncate(s.Clock.Now()) - 60_000
	from := to - 1500*60_000
	pages := 0
	cs, err := r.Candles(context.Background(), market.Default, from, to, func(int64) { pages++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1500 || pages != 2 {
		t.Fatalf("%d candles in %d pages, want 1500 in 2", len(cs), pages)
	}
	for i, c := range cs {
		if c.OpenTime != from+int64(i)*60_000 || c.State != market.Reconciled || c.Source != market.SourceREST {
			t.Fatalf("row %d: %d %s %s", i, c.OpenTime, c.State, c.Source)
		}
	}
}
