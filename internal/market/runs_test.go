package market

import (
	"fmt"
	"testing"
)

func TestRunLen(t *testing.T) {
	t.Parallel()
	a, b := Market{Venue: "bitmex", Symbol: "XBTUSD"}, Market{Venue: "bitmex", Symbol: "ETHUSD"}
	other := Market{Venue: "okx", Symbol: "XBTUSD"}
	cases := []struct {
		name string
		ts   []Market
		want string
	}{
		{"none", nil, "[]"},
		{"one", []Market{a}, "[1]"},
		{"one market", []Market{a, a, a}, "[3]"},
		{"markets in turn", []Market{a, b, a}, "[1 1 1]"},
		{"runs", []Market{a, a, b, b, b, a}, "[2 3 1]"},
		{"same symbol, other venue", []Market{a, other}, "[1 1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := make([]Trade, len(c.ts))
			for i, m := range c.ts {
				ts[i] = Trade{Market: m}
			}
			lens := []int{}
			for rest := ts; len(rest) > 0; {
				n := RunLen(rest)
				for _, tr := range rest[:n] {
					if tr.Market != rest[0].Market {
						t.Fatalf("run %d holds %s and %s", len(lens), rest[0].Market, tr.Market)
					}
				}
				lens, rest = append(lens, n), rest[n:]
			}
			if fmt.Sprint(lens) != c.want || RunLen(nil) != 0 {
				t.Fatalf("runs %v, want %s", lens, c.want)
			}
		})
	}
}
