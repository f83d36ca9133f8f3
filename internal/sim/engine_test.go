package sim

import (
	"reflect"
	"testing"
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
