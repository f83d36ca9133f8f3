package postgres

import (
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

// TestDecimalTextHasNoComma pins what columns relies on: a decimal's text
// never holds a comma and is never empty, so a column's comma-joined
// decimals split back into exactly one value per row.
func TestDecimalTextHasNoComma(t *testing.T) {
	for _, s := range []string{"0", "-0.5", "123456789012345678.123456789", "0.000000000000000001", "1e5", "-12.30"} {
		d, err := market.ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.AppendText(nil)
		if err != nil || len(b) == 0 || strings.ContainsRune(string(b), ',') {
			t.Fatalf("%s as text: %q, %v", s, b, err)
		}
	}
	var cs columns
	one := market.MustDecimal("1.5")
	c := market.Candle{Open: one, High: one, Low: one, Close: one, Volume: one, Quote: market.Zero}
	cs.add(&c)
	cs.add(&c)
	if got := strings.Split(string(cs.dec[5]), ","); len(got) != 2 || got[0] != "0" {
		t.Fatalf("two rows' quote column: %q", got)
	}
}
