package market

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	cases := map[string]int64{
		"now":                  now.UnixMilli(),
		"1700000000000":        1700000000000,
		"2026-11-24":           time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).UnixMilli(),
		"2026-11-24T10:30":     time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC).UnixMilli(),
		"2026-11-24T10:30:00Z": time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC).UnixMilli(),
		"6h":                   now.Add(-6 * time.Hour).UnixMilli(),
		"-90m":                 now.Add(-90 * time.Minute).UnixMilli(),
		"3d":                   now.Add(-72 * time.Hour).UnixMilli(),
		"2w":                   now.Add(-14 * 24 * time.Hour).UnixMilli(),
	}
	for in, want := range cases {
		if got, err := ParseTime(in, now); err != nil || got != want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseTime("yesterday", now); err == nil {
		t.Error("ParseTime accepted nonsense")
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "1h30m": 90 * time.Minute, "3d": 72 * time.Hour,
		"2w": 336 * time.Hour, "1w2d12h": 228 * time.Hour, "1.5d": 36 * time.Hour, "0.5w1ms": 84*time.Hour + time.Millisecond, "0": 0} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "3", "3x", "1..5d", "w2", "3dd", "-", "1e3d"} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, d)
		}
	}
}

func TestParseIntervals(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"1m": 1, "1m, 5m,1h": 3, "all": len(Intervals)} {
		if got, err := ParseIntervals(in); err != nil || len(got) != want {
			t.Errorf("ParseIntervals(%q) = %v, %v; want %d intervals", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2m", "1m,,5m"} {
		if _, err := ParseIntervals(bad); err == nil {
			t.Errorf("ParseIntervals(%q) accepted it", bad)
		}
	}
}
