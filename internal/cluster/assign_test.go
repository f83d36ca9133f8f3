package cluster

import (
	"fmt"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

func manyMarkets(n int) []market.Market {
	var out []market.Market
	venues := []string{"binance", "okx", "bybit", "kraken", "coinbase", "bitmex"}
	for i := range n {
		out = append(out, market.Market{Venue: venues[i%len(venues)], Symbol: fmt.Sprintf("S%dUSDT", i)})
	}
	return out
}

// TestAssignSpreadsAndMovesLittle: 600 markets over 3 nodes: each owns
// and stands by for about a third, never both for one market; a fourth
// node takes about a quarter, all from the others' shares, and moves no
// market between the three; when it leaves again, the first answer is
// back.
func TestAssignSpreadsAndMovesLittle(t *testing.T) {
	ms := manyMarkets(600)
	three := Assign(ms, []string{"c0", "c1", "c2"}, nil)
	for _, n := range []string{"c0", "c1", "c2"} {
		owned, standby := three.Count(n)
		if owned < 160 || owned > 240 || standby < 160 || standby > 240 {
			t.Errorf("%s owns %d and stands by for %d of 600 over 3 nodes", n, owned, standby)
		}
	}
	for m, p := range three {
		if p.Owner == p.Standby || p.Owner == "" || p.Standby == "" {
			t.Fatalf("%s: %+v", m, p)
		}
	}
	four := Assign(ms, []string{"c0", "c1", "c2", "c3"}, nil)
	moved := 0
	for _, m := range ms {
		if four[m].Owner != three[m].Owner {
			moved++
			if four[m].Owner != "c3" {
				t.Fatalf("%s moved from %s to %s, not to the new node", m, three[m].Owner, four[m].Owner)
			}
		}
	}
	if moved < 110 || moved > 190 {
		t.Errorf("the fourth node took %d of 600 markets, want about 150", moved)
	}
	back := Assign(ms, []string{"c0", "c1", "c2"}, nil)
	for _, m := range ms {
		if back[m] != three[m] {
			t.Fatalf("%s: %+v after the fourth left, %+v before it came", m, back[m], three[m])
		}
	}
}

func TestAssignPins(t *testing.T) {
	ms := manyMarkets(60)
	pins := map[string][]string{"okx": {"c2"}, "okx:S1USDT": {"c0", "c1"}, "kraken": {"gone"}}
	a := Assign(ms, []string{"c0", "c1", "c2"}, pins)
	for _, m := range ms {
		p := a[m]
		switch {
		case m.String() == "okx:S1USDT":
			if p.Owner == "c2" || p.Standby == "c2" {
				t.Errorf("%s pinned to c0, c1: %+v", m, p)
			}
		case m.Venue == "okx":
			if p.Owner != "c2" || p.Standby != "" {
				t.Errorf("%s pinned to c2: %+v", m, p)
			}
		case p.Owner == "" || p.Standby == "":
			t.Errorf("%s (pinned to no member, or not pinned): %+v", m, p)
		}
	}
	collect, own := a.Of("c2", ms)
	if len(own) == 0 || len(collect) < len(own) {
		t.Fatalf("c2 collects %d and owns %d", len(collect), len(own))
	}
}

func TestAssignOneNode(t *testing.T) {
	ms := manyMarkets(5)
	collect, own := Assign(ms, []string{"only"}, nil).Of("only", ms)
	if len(collect) != 5 || len(own) != 5 {
		t.Fatalf("one node collects %d and owns %d of 5", len(collect), len(own))
	}
}
