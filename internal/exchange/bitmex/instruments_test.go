package bitmex

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

// restBody reads the body of the first response in a recorded REST file
// (lines "URL -> T: BODY").
func restBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realdata.Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	_, body, ok := strings.Cut(line, ": ")
	if !ok {
		t.Fatalf("%s: no response body in %q", name, line[:min(len(line), 80)])
	}
	return []byte(body)
}

// TestDecodeInstrumentsReal decodes BitMEX's recorded instrument list:
// every instrument has a positive tick and lot, XBTUSD trades in 0.5 USD
// ticks and lots of 100 contracts, and exponent ticks (1e-8) read exactly.
func TestDecodeInstrumentsReal(t *testing.T) {
	list, err := DecodeInstruments(restBody(t, "BITMEX.0"))
	if err != nil {
		t.Fatal(err)
	}
	xbt, ok := list.Find(market.Market{Venue: Venue, Symbol: "XBTUSD"})
	if !ok || xbt.Tick.String() != "0.5" || xbt.Lot.String() != "100" || !xbt.Trading || xbt.Base != "XBT" || xbt.Quote != "USD" {
		t.Fatalf("XBTUSD: %+v (found %v)", xbt, ok)
	}
	xrp, ok := list.Find(market.Market{Venue: Venue, Symbol: "XRPU21"})
	if p, _ := xrp.Scale(); !ok || xrp.Tick.String() != "0.00000001" || p != 8 {
		t.Fatalf("XRPU21: %+v", xrp)
	}
	t.Logf("%d instruments", len(list))
}

func TestDecodeInstrumentsRejects(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `[{"symbol":"X","tickSize":0,"lotSize":1}]`, `[{"symbol":"","tickSize":1,"lotSize":1}]`, `[{"symbol":"X","tickSize":"a","lotSize":1}]`} {
		if _, err := DecodeInstruments([]byte(body)); !errors.Is(err, ErrDecode) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func FuzzDecodeInstruments(f *testing.F) {
	f.Add([]byte(`[{"symbol":"XBTUSD","state":"Open","underlying":"XBT","quoteCurrency":"USD","tickSize":0.5,"lotSize":100}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := DecodeInstruments(data)
		for _, in := range list {
			if err != nil || in.Check() != nil {
				t.Fatalf("decoded an invalid instrument %+v: %v", in, err)
			}
		}
	})
}
