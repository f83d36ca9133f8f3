package market

// UTCMillis reads the RFC 3339 form venues stamp trades with,
// 2021-07-22T22:36:11.685Z, with 0 to 9 fraction digits and a Z, as UTC
// milliseconds (truncated, as time.Time's UnixMilli), without allocating.
// ok is false for any other form, which a fast decoder then leaves to
// time.Parse; where ok is true the two agree.
func UTCMillis(b []byte) (int64, bool) {
	day, ok := utcDay(b)
	if !ok {
		return 0, false
	}
	ms, ok := utcTime(b)
	if !ok {
		return 0, false
	}
	return day + ms, true
}

// utcDay reads the date of a UTCMillis text, 2021-07-22T…, as the
// milliseconds of its midnight; ok is false unless the text has the
// form's length and a real date.
func utcDay(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' {
		return 0, false
	}
	y, ok1 := digitsOf(b[0:4])
	m, ok2 := digitsOf(b[5:7])
	d, ok3 := digitsOf(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false // 31 April and such: time.Parse refuses them
	}
	return daysFromCivil(y, m, d) * 86_400_000, true
}

// utcTime reads the time of day of a UTCMillis text, …T22:36:11.685Z, in
// milliseconds (the fraction truncated); b must be at least 20 bytes.
func utcTime(b []byte) (int64, bool) {
	if b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return 0, false
	}
	h, ok1 := digitsOf(b[11:13])
	m, ok2 := digitsOf(b[14:16])
	sec, ok3 := digitsOf(b[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return 0, false
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
	return int64(h*3600+m*60+sec)*1000 + int64(ns/1_000_000), true
}

// daysIn is the number of days in a month of the proleptic Gregorian
// calendar.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (Howard
// Hinnant's algorithm; y >= 0 here), without time.Date's work.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
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

// UTCMemo is UTCMillis that remembers the last text it read: the rows of
// one frame, and frames in a burst, often carry the same timestamp, and
// comparing it costs less than reading it again. A text of the same day
// has only its time read. The zero value is ready; a UTCMemo is used by
// one goroutine at a time.
type UTCMemo struct {
	text [32]byte
	n    int // length of text; 0: nothing remembered
	ms   int64
	day  int64 // midnight of text's date
}

// Millis is UTCMillis(b), from memory when b is the text last read, or
// of its day.
func (m *UTCMemo) Millis(b []byte) (int64, bool) {
	if m.n > 0 && string(b) == string(m.text[:m.n]) {
		return m.ms, true
	}
	day, ok := m.day, m.n > 0 && len(b) >= 20 && string(b[:11]) == string(m.text[:11])
	if !ok {
		if day, ok = utcDay(b); !ok {
			return 0, false
		}
	}
	ms, ok := utcTime(b)
	if !ok {
		return 0, false
	}
	if len(b) <= len(m.text) {
		m.n, m.ms, m.day = copy(m.text[:], b), day+ms, day
	}
	return day + ms, true
}
