package market

import "time"

// UTCMillis reads the RFC 3339 form venues stamp trades with,
// 2021-07-22T22:36:11.685Z, with 0 to 9 fraction digits and a Z, as UTC
// milliseconds (truncated, as time.Time's UnixMilli), without allocating.
// ok is false for any other form, which a fast decoder then leaves to
// time.Parse; where ok is true the two agree.
func UTCMillis(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return 0, false
	}
	var n [6]int
	for i, span := range [...][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		v, ok := digitsOf(b[span[0]:span[1]])
		if !ok {
			return 0, false
		}
		n[i] = v
	}
	ns := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		v, ok := digitsOf(frac[1:])
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 || !ok {
			return 0, false
		}
		for range 10 - len(frac) {
			v *= 10
		}
		ns = v
	}
	if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[3] > 23 || n[4] > 59 || n[5] > 59 {
		return 0, false
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], ns, time.UTC)
	if t.Day() != n[2] { // 31 April and such: time.Parse refuses them
		return 0, false
	}
	return t.UnixMilli(), true
}

// digitsOf reads a run of decimal digits (at most 9).
func digitsOf(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, len(b) <= 9
}
