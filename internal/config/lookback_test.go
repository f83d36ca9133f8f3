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
