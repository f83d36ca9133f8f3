package market

import (
	"testing"
	"time"
)

func TestUTCMillis(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2021-07-22T22:36:11.685Z", 1626993371685, true},
		{"2021-04-17T16:43:37.089723Z", 1618677817089, true},
		{"2026-11-29T10:17:00.000000000Z", 1795947420000, true},
		{"2026-11-29T10:17:00Z", 1795947420000, true},
		{"1969-12-31T23:59:59.9995Z", -1, true},
		{"2021-04-31T00:00:00Z", 0, false},
		{"2000-02-29T00:00:00Z", 951782400000, true},
		{"1900-02-29T00:00:00Z", 0, false},
		{"2100-02-29T00:00:00Z", 0, false},
		{"0001-01-01T00:00:00Z", -62135596800000, true},
		{"2021-07-22T22:36:11.Z", 0, false},
		{"2021-07-22T22:36:11.1234567891Z", 0, false},
		{"2021-07-22T22:36:11+00:00", 0, false},
		{"2021-07-22 22:36:11Z", 0, false},
		{"2021-07-22T24:00:00Z", 0, false},
	} {
		got, ok := UTCMillis([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("UTCMillis(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzUTCMillis: where UTCMillis reads a time, time.Parse reads the same.
func FuzzUTCMillis(f *testing.F) {
	for _, s := range []string{"2021-07-22T22:36:11.685Z", "2021-04-17T16:43:37.089723Z", "2020-02-29T00:00:00Z", "0000-01-01T00:00:00.5Z", "0000-02-29T12:00:00Z", "1600-12-31T23:59:59.999999999Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := UTCMillis([]byte(s))
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || want.UnixMilli() != got {
			t.Fatalf("UTCMillis(%q) = %d; time.Parse %v, %v", s, got, want.UnixMilli(), err)
		}
	})
}

// TestUTCMemo: a memo answers as UTCMillis does, whatever it read before:
// the same text again, a text that differs in its last digit or only in
// length, a text it refused, one too long to remember, and texts of the
// day it remembers.
func TestUTCMemo(t *testing.T) {
	seq := []string{
		"2021-07-22T22:36:11.685Z", "2021-07-22T22:36:11.685Z", "2021-07-22T22:36:11.686Z",
		"2021-07-22T22:36:11.68Z", "2021-04-31T00:00:00Z", "2021-04-31T00:00:00Z", "2021-07-22T22:36:11.68Z",
		"2026-11-29T10:17:00.000000000Z", "2026-11-29T10:17:00.000000000Z", "", "2021-07-22T22:36:11.685",
		"2021-07-22T22:36:11.685Z",
		// The same day: only the time is read, and must still be checked.
		"2021-07-22T23:59:59.999Z", "2021-07-22T24:00:00Z", "2021-07-22T00:00:00Z", "2021-07-22T12:60:00Z",
		"2021-07-22T1Z", "2021-07-22T12:00:00.Z", "2021-07-22T12:00:00.1234567891Z", "2021-07-23T00:00:00Z",
		"2021-07-22T22:36:11+00:00", "2021-07-22T22:36:11.685Z",
	}
	var m UTCMemo
	for i, s := range seq {
		got, ok := m.Millis([]byte(s))
		want, wok := UTCMillis([]byte(s))
		if got != want || ok != wok {
			t.Errorf("read %d, %q: %d, %v; UTCMillis says %d, %v", i, s, got, ok, want, wok)
		}
	}
}

// FuzzUTCMemo: a memo that read a first text answers for a second as
// UTCMillis does.
func FuzzUTCMemo(f *testing.F) {
	f.Add("2021-07-22T22:36:11.685Z", "2021-07-22T22:36:11.685Z")
	f.Add("2021-07-22T22:36:11.685Z", "2021-07-22T22:36:11.68Z")
	f.Fuzz(func(t *testing.T, a, b string) {
		var m UTCMemo
		m.Millis([]byte(a))
		got, ok := m.Millis([]byte(b))
		if want, wok := UTCMillis([]byte(b)); got != want || ok != wok {
			t.Fatalf("after %q, %q: %d, %v; UTCMillis says %d, %v", a, b, got, ok, want, wok)
		}
	})
}
