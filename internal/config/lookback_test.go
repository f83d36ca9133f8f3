package config

import (
	"strings"
	"testing"
	"time"
)

func TestRepairLookback(t *testing.T) {
	c, err := Parse([]byte("repair_lookback: 48h\n"))
	if err != nil || c.RepairLookback != 48*time.Hour {
		t.Fatalf("Parse = %+v, %v; want a 48h look-back", c, err)
	}
	if _, err := Parse([]byte("repair_lookback: -1h\n")); err == nil || !strings.Contains(err.Error(), "repair_lookback") {
		t.Fatalf("a negative look-back: %v; want an error naming repair_lookback", err)
	}
}

func TestFormingEvery(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "forming_every: 250ms\n": 250 * time.Millisecond, "forming_every: 2s\n": 2 * time.Second} {
		c, err := Parse([]byte(in))
		if err != nil || c.FormingEvery != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, c.FormingEvery, err, want)
		}
	}
	for _, in := range []string{"forming_every: -1s\n"} {
		if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), "forming_every") {
			t.Errorf("Parse(%q): %v; want an error naming forming_every", in, err)
		}
	}
}
