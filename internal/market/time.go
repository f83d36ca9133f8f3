package market

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a time a person gives (command-line flags) as RFC 3339, YYYY-MM-DD[THH:MM], Unix ms, "now",
// or a duration before now ("6h" or "-6h").
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
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, fmt.Errorf("cannot read time %q (use RFC 3339, YYYY-MM-DD, Unix ms, now, or a duration like 6h)", s)
}
