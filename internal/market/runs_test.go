package market

import (
	"fmt"
	"testing"
)

func TestRuns(t *testing.T) {
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
				ts[i] = Trade{Market: m, Time: int64(i)}
			}
			var lens []int
			next := 0
			for run := range Runs(ts) {
				for _, tr := range run {
					if tr.Market != run[0].Market || tr.Time != int64(next) {
						t.Fatalf("run %v holds trade %d of %s", lens, tr.Time, tr.Market)
					}
					next++
				}
				lens = append(lens, len(run))
			}
			if fmt.Sprint(lens) != c.want || next != len(ts) {
				t.Fatalf("runs %v covering %d trades, want %s covering %d", lens, next, c.want, len(ts))
			}
		})
	}
	for range Runs([]Trade{{Market: a}, {Market: b}}) {
		break // stopping early must not panic
	}
}
