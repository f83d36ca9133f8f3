package market

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a time a person gives (command-line flags) as RFC 3339, YYYY-MM-DD[THH:MM], Unix ms, "now",
// or a duration before now ("6h", "-6h", "3d", "2w"; ParseDuration).
func ParseTime(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now.UnixMilli(), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UnixMilli(), nil
		}
	}
	if d, err := ParseDuration(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("cannot read time %q (use RFC 3339, YYYY-MM-DD, Unix ms, now, or a duration like 6h, 3d or 2w)", s)
}

// ParseDuration reads a Go duration ("90m", "1h30m") that may also count
// days ("3d", 24 hours each, UTC having no daylight saving) and weeks
// ("2w"), alone or with the other units ("1w2d12h").
func ParseDuration(s string) (time.Duration, error) {
	var b strings.Builder
	start := 0 // of the current number
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' || c == '.':
			continue
		case c == 'd' || c == 'w':
			n, err := strconv.ParseFloat(s[start:i], 64)
			if err != nil || start == i {
				return 0, fmt.Errorf("cannot read duration %q", s)
			}
			hours := map[byte]float64{'d': 24, 'w': 7 * 24}[c]
			b.WriteString(strconv.FormatFloat(n*hours, 'f', -1, 64) + "h")
		default:
			b.WriteString(s[start : i+1])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	d, err := time.ParseDuration(b.String())
	if err != nil {
		return 0, fmt.Errorf("cannot read duration %q (such as 90s, 6h, 3d or 2w)", s)
	}
	return d, nil
}
