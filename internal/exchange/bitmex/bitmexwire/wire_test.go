package bitmexwire

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestTimestamp(t *testing.T) {
	if got := Timestamp(1_700_000_000_123); got != "2023-11-14T22:13:20.123Z" {
		t.Errorf("Timestamp = %q", got)
	}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		raw  string
		want []string
	}{
		{`["trade:XBTUSD","tradeBin1m:XBTUSD"]`, []string{"trade:XBTUSD", "tradeBin1m:XBTUSD"}},
		{`"trade:XBTUSD"`, []string{"trade:XBTUSD"}},
		{`""`, nil},
		{`5`, nil},
		{`{"a":1}`, nil},
		{`[]`, []string{}},
	}
	for _, c := range cases {
		if got := ParseArgs(json.RawMessage(c.raw)); !slices.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("ParseArgs(%s) = %#v, want %#v", c.raw, got, c.want)
		}
	}
}
