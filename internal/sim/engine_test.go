package sim

import (
	"reflect"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

var btcSpec = Spec{PricePrec: 2, Tick: 1, Start: 6_432_157, SizePrec: 5, Lot: 1}

// TestDeterministic advances two engines with the same seed in different
// step sizes; the logs must be identical. A third seed must differ.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	const start, span = 1_700_000_040_000, 30 * 60_000
	a := newInstrument(7, "binance", "BTCUSDT", btcSpec, start)
	b := newInstrument(7, "binance", "BTCUSDT", btcSpec, start)
	c := newInstrument(8, "binance", "BTCUSDT", btcSpec, start)
	a.Advance(start + span)
	for t := int64(start); t <= start+span; t += 997 {
		b.Advance(t)
	}
	b.Advance(start + span)
	c.Advance(start + span)
	if len(a.log) < 100 {
		t.Fatalf("only %d trades in 30 minutes", len(a.log))
	}
	if !reflect.DeepEqual(a.log, b.log) {
		t.Fatal("the same seed gave different trades at a different step size")
	}
	if reflect.DeepEqual(a.log, c.log) {
		t.Fatal("different seeds gave the same trades")
	}
}

func TestBinsHaveEmptyAndBurstyMinutes(t *testing.T) {
	t.Parallel()
	const start = 1_700_000_040_000
	in := newInstrument(1, "binance", "BTCUSDT", btcSpec, start)
	in.Advance(start + 180*60_000)
	empty, bursty := 0, 0
	prevClose := btcSpec.Start
	for m := int64(start); m < start+180*60_000; m += 60_000 {
		b := in.Bin(m)
		if b.PrevClose != prevClose {
			t.Fatalf("minute %d: previous close %d, want %d", m, b.PrevClose, prevClose)
		}
		if b.Empty() {
			empty++
			if b.OpenPrice() != b.Close || b.High != b.Low || b.FirstFill != -1 {
				t.Fatalf("empty bin not flat at previous close: %+v", b)
			}
		} else if b.Low > b.High || b.OpenPrice() < b.Low || b.OpenPrice() > b.High {
			t.Fatalf("inconsistent bin %+v", b)
		}
		if b.Count > 150 {
			bursty++
		}
		prevClose = b.Close
	}
	if empty == 0 || bursty == 0 {
		t.Fatalf("180 minutes had %d empty and %d bursty minutes; want some of each", empty, bursty)
	}
}

// TestAnchorGoesOnFromPrice: an instrument anchored at a time and price
// has its last trade before that time at the price (on the tick), and the
// same trades as without the anchor, at prices moved by one amount.
func TestAnchorGoesOnFromPrice(t *testing.T) {
	t.Parallel()
	const listed, at, span = 1_700_000_040_000, 1_700_000_040_000 + 20*60_000, 30 * 60_000
	for _, c := range []struct {
		name  string
		price string
		want  int64 // units of the last trade before at
	}{
		{"on the tick", "70123.45", 7_012_345},
		{"below the tick", "70123.456", 7_012_345},
		{"below the walk", "100", 10_000},
	} {
		t.Run(c.name, func(t *testing.T) {
			plain := newInstrument(7, "binance", "BTCUSDT", btcSpec, listed)
			moved := newInstrument(7, "binance", "BTCUSDT", btcSpec, listed)
			moved.anchor(at, market.MustDecimal(c.price))
			plain.Advance(at + span)
			moved.Advance(at + span)
			before := moved.Trades(listed, at)
			if len(before) == 0 || before[len(before)-1].Price != c.want {
				t.Fatalf("last trade before the anchor %+v, want price %d", before[len(before)-1:], c.want)
			}
			if len(plain.log) != len(moved.log) {
				t.Fatalf("%d trades anchored, %d plain", len(moved.log), len(plain.log))
			}
			delta := moved.log[0].Price - plain.log[0].Price
			for i := range plain.log {
				p, m := plain.log[i], moved.log[i]
				if p.Time != m.Time || p.Size != m.Size || m.Price != max(p.Price+delta, btcSpec.Tick) {
					t.Fatalf("trade %d: %+v anchored, %+v plain (prices %d apart)", i, m, p, delta)
				}
			}
		})
	}
}
