package market

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "64321.57000000", want: "64321.57"},
		{in: "0.00000001", want: "0.00000001"},
		{in: "1e-05", want: "0.00001"},
		{in: "1.5E3", want: "1500"},
		{in: "-2.5e-2", want: "-0.025"},
		{in: "115.89499006999998", want: "115.89499006999998"},
		{in: "12", want: "12"},
		{in: "", bad: true},
		{in: "abc", bad: true},
		{in: "1e999999", bad: true},
		{in: "e5", bad: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseDecimal(c.in)
			if c.bad {
				if err == nil {
					t.Fatalf("ParseDecimal(%q) = %s, want error", c.in, got)
				}
				return
			}
			if err != nil || got.String() != c.want {
				t.Fatalf("ParseDecimal(%q) = %s, %v; want %s", c.in, got, err, c.want)
			}
		})
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1", "0.1", "1e-5", "-3.25E+2", "9999999999999999999999.1", "-0", "-0.000", "007.50",
		"1.", ".5", "-", "+1", "1..2", "9999999999999999999", "18446744073709551616", "0.0000000000000000001", "1.00000000000000000000",
		// Long runs of digits, and bytes just outside '0'..'9' in them.
		"12345678", "87654321.12345678", "1234567812345678.123", "1234567:", "1234567/", "12345678.9012345/", "@2345678", "-0000000000000000001",
		"289.39639639639637", "0.35270000", "1234567\x80", "12345678.87654321\xb9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		db, errb := ParseDecimalBytes([]byte(s))
		if (err == nil) != (errb == nil) || (err == nil && (!d.Equal(db) || d.String() != db.String() || !reflect.DeepEqual(d, db))) {
			t.Fatalf("%q: ParseDecimal %v %v, ParseDecimalBytes %v %v", s, d, err, db, errb)
		}
		if err != nil {
			return
		}
		// Whatever parses must round-trip through its canonical text.
		back, err := ParseDecimal(d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("round trip of %q: %s -> %v %v", s, d, back, err)
		}
	})
}

func TestParseDecimalBytesDoesNotAllocate(t *testing.T) {
	b := []byte("64321.57000000")
	if n := testing.AllocsPerRun(100, func() { ParseDecimalBytes(b) }); n != 0 { //nolint:errcheck // counting allocations
		t.Errorf("ParseDecimalBytes allocated %v times", n)
	}
}

func TestParseMarket(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Market
		bad  bool
	}{
		{in: "binance:btcusdt", want: Market{"binance", "BTCUSDT"}},
		{in: " BitMEX:XBTUSD ", want: Market{"bitmex", "XBTUSD"}},
		{in: "BTCUSDT", bad: true},
		{in: "binance:", bad: true},
		{in: "bin ance:X", bad: true},
	}
	for _, c := range cases {
		got, err := ParseMarket(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("ParseMarket(%q) = %v, %v", c.in, got, err)
		}
	}
	ms, err := ParseMarkets("binance:BTCUSDT, bitmex:XBTUSD")
	if err != nil || len(ms) != 2 || ms[1].String() != "bitmex:XBTUSD" {
		t.Fatalf("ParseMarkets = %v, %v", ms, err)
	}
}

func TestInterval(t *testing.T) {
	t.Parallel()
	for _, iv := range Intervals {
		if iv.Millis() == 0 {
			t.Fatalf("%s has no width", iv)
		}
		if src, ok := iv.Source(); ok && iv.Millis()%src.Millis() != 0 {
			t.Fatalf("%s is not a multiple of its source %s", iv, src)
		}
	}
	if got := I5m.Truncate(1_700_000_123_456); got != 1_700_000_100_000 {
		t.Fatalf("Truncate = %d", got)
	}
	if got := I1m.Truncate(-1); got != -60_000 {
		t.Fatalf("Truncate(-1) = %d", got)
	}
	if _, err := ParseInterval("7m"); err == nil || !strings.Contains(err.Error(), "unknown interval") {
		t.Fatalf("ParseInterval(7m) err = %v", err)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	m := Market{"binance", "BTCUSDT"}
	base := Candle{Market: m, Interval: I1m, OpenTime: 60_000, Open: MustDecimal("1"), High: MustDecimal("3"),
		Low: MustDecimal("1"), Close: MustDecimal("2"), Volume: MustDecimal("5"), Trades: 4, State: Provisional, Source: SourceTrades}
	changed := base
	changed.Close = MustDecimal("3")
	closed := base
	closed.State = Closed
	venue := base
	venue.State, venue.Source, venue.Volume = Reconciled, SourceKline, MustDecimal("6")
	stored := base
	stored.Rev = 4
	storedRec := venue
	storedRec.Rev = 7
	hour := base
	hour.Interval, hour.OpenTime = I1h, 0
	storedHour := hour
	storedHour.Rev = 2
	cases := []struct {
		name    string
		old     *Candle
		in      Candle
		outcome Outcome
		rev     int64
	}{
		{"first version", nil, base, Inserted, 1},
		{"identical replay", &stored, base, Unchanged, 4},
		{"value change", &stored, changed, Updated, 5},
		{"state change", &stored, closed, Updated, 5},
		{"venue final", &stored, venue, Updated, 5},
		{"trade-built after reconciled", &storedRec, closed, Stale, 7},
		{"reconciled replay", &storedRec, venue, Unchanged, 7},
		{"more volume", &stored, withTrades(changed, 5, "5.5"), Updated, 5},
		{"more volume, no trade count (a venue's forming bin)", &stored, withTrades(changed, 0, "5.5"), Updated, 5},
		{"as much volume, more trades", &stored, withTrades(changed, 5, "5"), Updated, 5},
		{"less volume (a lagging writer)", &stored, withTrades(changed, 9, "4.5"), Stale, 4},
		{"as much volume, fewer trades", &stored, withTrades(changed, 3, "5"), Stale, 4},
		{"less volume, closed over provisional", &stored, withTrades(closed, 3, "4"), Updated, 5},
		{"venue final with less volume", &storedRec, withTrades(venue, 1, "1"), Updated, 8},
		{"rollup with less volume", &storedHour, withTrades(hour, 1, "1"), Updated, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, o := Merge(c.old, c.in)
			if o != c.outcome || out.Rev != c.rev {
				t.Fatalf("Merge = rev %d outcome %d; want rev %d outcome %d", out.Rev, o, c.rev, c.outcome)
			}
		})
	}
}

// withTrades is c with n trades and volume v.
func withTrades(c Candle, n int64, v string) Candle {
	c.Trades, c.Volume = n, MustDecimal(v)
	return c
}

func TestValidateAndJSON(t *testing.T) {
	t.Parallel()
	c := Candle{Market: Default, Interval: I1m, OpenTime: 120_000, Open: MustDecimal("1.50"), High: MustDecimal("2"),
		Low: MustDecimal("1"), Close: MustDecimal("1.5"), Volume: MustDecimal("0.001"), Trades: 2, State: Closed, Rev: 3}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	b, _ := c.MarshalJSON()
	want := `{"venue":"binance","symbol":"BTCUSDT","interval":"1m","t":120000,"o":"1.5","h":"2","l":"1","c":"1.5","v":"0.001","q":"0","n":2,"final":false,"rev":3,"state":"closed","source":""}`
	if string(b) != want {
		t.Fatalf("json\n got %s\nwant %s", b, want)
	}
	bad := c
	bad.OpenTime = 120_001
	if bad.Validate() == nil {
		t.Fatal("unaligned open time accepted")
	}
	bad = c
	bad.High = MustDecimal("0.5")
	if bad.Validate() == nil {
		t.Fatal("high below low accepted")
	}
}

func TestInterner(t *testing.T) {
	in := Interner{Venue: "binance", Upper: true}
	if m := in.Market([]byte("btcusdt")); m != (Market{Venue: "binance", Symbol: "BTCUSDT"}) {
		t.Fatalf("got %v", m)
	}
	raw := []byte("btcusdt")
	if n := testing.AllocsPerRun(100, func() { in.Market(raw) }); n != 0 {
		t.Errorf("a known symbol allocated %v times", n)
	}
	for i := range maxInterned + 10 { // the table stays bounded
		in.Market([]byte(fmt.Sprintf("S%d", i)))
	}
	if len(in.table) != maxInterned {
		t.Errorf("table holds %d symbols, want the bound %d", len(in.table), maxInterned)
	}
	if m := in.Market([]byte("new")); m.Symbol != "NEW" {
		t.Errorf("past the bound: %v", m)
	}
}

// FuzzParseSeriesList: any client-supplied stream list parses or is
// refused with an error; what parses renders back to itself.
func FuzzParseSeriesList(f *testing.F) {
	for _, s := range []string{"binance:BTCUSDT@1m", "binance:BTCUSDT,bitmex:XBTUSD@5m", "", "@", "x:y@1d,,", "binance:BTCUSDT@7m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseSeriesList(s)
		if err != nil {
			return
		}
		for _, sr := range list {
			back, err := ParseSeries(sr.String())
			if err != nil || back != sr {
				t.Fatalf("%q: %v renders as %q, which parses to %v, %v", s, sr, sr.String(), back, err)
			}
		}
	})
}

func TestParseSeries(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"binance:BTCUSDT@1m": "binance:BTCUSDT@1m", "binance:BTCUSDT": "binance:BTCUSDT@1m", " bitmex:XBTUSD@1h ": "bitmex:XBTUSD@1h",
		"binance:BTCUSDT@7m": "", "BTCUSDT@1m": "", "": "",
	}
	for in, want := range cases {
		got, err := ParseSeries(in)
		if (err == nil) != (want != "") || err == nil && got.String() != want {
			t.Errorf("ParseSeries(%q) = %v, %v; want %q", in, got, err, want)
		}
	}
}

func TestFinals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		states []State
		want   int
	}{{nil, 0}, {[]State{Provisional, Closed}, 0}, {[]State{Reconciled, Provisional, Reconciled}, 2}} {
		var cs []Candle
		for _, s := range c.states {
			cs = append(cs, Candle{State: s})
		}
		if got := Finals(cs); got != c.want {
			t.Errorf("Finals(%v) = %d, want %d", c.states, got, c.want)
		}
	}
}

// TestIntervalWidths: every interval's width, none for names that are not
// intervals, and Truncate to the start of the bin for times on both sides
// of the epoch and of bin edges.
func TestIntervalWidths(t *testing.T) {
	want := map[Interval]int64{I1m: 60_000, I3m: 180_000, I5m: 300_000, I15m: 900_000, I30m: 1_800_000,
		I1h: 3_600_000, I2h: 7_200_000, I4h: 14_400_000, I1d: 86_400_000}
	if len(want) != len(Intervals) {
		t.Fatalf("%d intervals, %d widths known to the test", len(Intervals), len(want))
	}
	for _, iv := range Intervals {
		if iv.Millis() != want[iv] {
			t.Errorf("%s.Millis() = %d, want %d", iv, iv.Millis(), want[iv])
		}
		w := want[iv]
		for _, tm := range []int64{0, 1, w - 1, w, w + 1, -1, -w, -w - 1, 1_700_000_123_456, -1_700_000_123_456} {
			start := tm / w * w
			if start > tm {
				start -= w
			}
			if got := iv.Truncate(tm); got != start {
				t.Errorf("%s.Truncate(%d) = %d, want %d", iv, tm, got, start)
			}
		}
	}
	for _, name := range []string{"", "2m", "1M", "1w", "60s", "1m "} {
		if ms := Interval(name).Millis(); ms != 0 {
			t.Errorf("Interval(%q).Millis() = %d, want 0", name, ms)
		}
		if _, err := ParseInterval(name); err == nil {
			t.Errorf("ParseInterval(%q) accepted", name)
		}
	}
}

// TestParsePlainEveryByte puts every byte value at every place of plain
// decimals, short and long: ParseDecimalBytes, which reads them itself,
// must answer as udecimal's parser does (ParseDecimal) for each.
func TestParsePlainEveryByte(t *testing.T) {
	for _, base := range []string{"12345678", "9876543210987654", "1234.5678", "12345678.87654321", "-98765432.1"} {
		for i := range len(base) {
			for c := range 256 {
				s := base[:i] + string(rune(0)) + base[i+1:]
				b := []byte(s)
				b[i] = byte(c)
				want, werr := ParseDecimal(string(b))
				got, gerr := ParseDecimalBytes(b)
				if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(want, got) {
					t.Fatalf("%q: ParseDecimal %v %v, ParseDecimalBytes %v %v", b, want, werr, got, gerr)
				}
			}
		}
	}
}
