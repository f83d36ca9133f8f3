package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// walk visits every member or element of the outermost value and reports
// whether the input was exactly one well-formed object or array.
func walk(b []byte) bool {
	it, ok := Members(b)
	if ok {
		for {
			if _, _, ok := it.Member(); !ok {
				break
			}
		}
		return it.End()
	}
	if it, ok = Elements(b); !ok {
		return false
	}
	for {
		if _, ok := it.Element(); !ok {
			break
		}
	}
	return it.End()
}

func TestWalk(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in string
		ok bool
	}{
		{`{}`, true},
		{` { } `, true},
		{`[]`, true},
		{`{"a":1,"b":[1,2,{"c":null}],"d":"x\"y","e":true,"f":false,"g":-0.5e+3}`, true},
		{`[1, "two", [3], {"4": 4}]`, true},
		{`{"a":1,}`, false},
		{`{,}`, false},
		{`[1,]`, false},
		{`[1 2]`, false},
		{`{"a" 1}`, false},
		{`{"a":}`, false},
		{`{"a":01}`, false},
		{`{"a":1.}`, false},
		{`{"a":.5}`, false},
		{`{"a":1e}`, false},
		{`{"a":tru}`, false},
		{`{"a":"unterminated}`, false},
		{`{"a":"bad \q escape"}`, false},
		{`{"a":"\u12g4"}`, false},
		{"{\"a\":\"tab\there\"}", false},
		{`{"a":1}}`, false},
		{`{"a":1} x`, false},
		{`{1:2}`, false},
		{`"just a string"`, false},
		{``, false},
		{`{"a":[[[[` + strings.Repeat("[", 100) + strings.Repeat("]", 104) + `}`, false}, // too deep
	}
	for _, c := range cases {
		if got := walk([]byte(c.in)); got != c.ok {
			t.Errorf("walk(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestMemberValues(t *testing.T) {
	t.Parallel()
	it, ok := Members([]byte("{\"s\":\"abc\",\"e\":\"a\\nb\",\"u\":\"é€\",\"x\":\"\xa1b\",\"n\":-12,\"o\":{\"x\":[1]},\"a\":[],\"t\":true,\"f\":false,\"z\":null}"))
	if !ok {
		t.Fatal("not an object")
	}
	want := []struct {
		key  string
		kind Kind
		raw  string
	}{
		// Bytes that are not UTF-8 make a string Escaped: a full decoder
		// replaces them, so the raw bytes are not its text.
		{"s", String, "abc"}, {"e", Escaped, `a\nb`}, {"u", String, "é€"}, {"x", Escaped, "\xa1b"},
		{"n", Number, "-12"}, {"o", Object, `{"x":[1]}`},
		{"a", Array, "[]"}, {"t", True, "true"}, {"f", False, "false"}, {"z", Null, "null"},
	}
	for _, w := range want {
		k, v, ok := it.Member()
		if !ok || string(k) != w.key || v.Kind != w.kind || string(v.Raw) != w.raw {
			t.Fatalf("member %q: got %q %v %q %v", w.key, k, v.Kind, v.Raw, ok)
		}
	}
	if _, _, ok := it.Member(); ok || !it.End() {
		t.Fatal("object did not end cleanly")
	}
}

func TestInt(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		n  int64
		ok bool
	}{
		"0": {0, true}, "-7": {-7, true}, "1633998523963": {1633998523963, true},
		"999999999999999999": {999999999999999999, true}, "9999999999999999999": {0, false},
		"1.5": {0, false}, "1e3": {0, false}, "-": {0, false},
	}
	for in, want := range cases {
		n, ok := Int(Value{Kind: Number, Raw: []byte(in)})
		if n != want.n || ok != want.ok {
			t.Errorf("Int(%s) = %d, %v; want %d, %v", in, n, ok, want.n, want.ok)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	frame := []byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"BTCUSDT","a":15683430,"p":"64321.57000000","q":"0.00058000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}`)
	if n := testing.AllocsPerRun(100, func() { walk(frame) }); n != 0 {
		t.Errorf("walking a frame allocated %v times", n)
	}
}

// FuzzWalk checks the scanner against encoding/json: whatever it accepts
// is valid JSON, and it accepts every valid object or array without
// escapes in keys that is not nested too deep. A key with bytes that are
// not UTF-8 counts as escaped (a full decoder replaces them).
func FuzzWalk(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":"c"}],"d":-1.5e3}`, `{"a":"\u00e9"}`, `[true,false,null]`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := walk(b)
		valid := json.Valid(b)
		if got && !valid {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		first := bytes.TrimLeft(b, " \t\r\n")
		simple := len(first) > 0 && (first[0] == '{' || first[0] == '[') && !bytes.Contains(b, []byte(`\`)) && utf8.Valid(b) &&
			bytes.Count(b, []byte("{"))+bytes.Count(b, []byte("[")) < maxDepth
		if valid && simple && !got {
			t.Fatalf("refused valid JSON %q", b)
		}
	})
}

// TestScanStringFindsEverySpecialByte: the eight-at-a-time skip stops for a
// quote, a backslash, a control character or a high byte at any position.
func TestScanStringFindsEverySpecialByte(t *testing.T) {
	for _, c := range []struct {
		special string
		kind    Kind
		ends    bool // the string ends there
	}{{`"`, String, true}, {`\n`, Escaped, false}, {"\x01", Invalid, false}, {"\xff", Escaped, false}, {"é", String, false}} {
		for pos := 0; pos < 20; pos++ {
			s := strings.Repeat("a", pos) + c.special + strings.Repeat("b", 20-pos)
			v, _ := scanString([]byte(`"`+s+`"`), 0)
			want := s
			if c.ends {
				want = s[:pos]
			}
			if v.Kind != c.kind || (c.kind != Invalid && string(v.Raw) != want) {
				t.Errorf("%q at %d: %v %q, want %v %q", c.special, pos, v.Kind, v.Raw, c.kind, want)
			}
		}
	}
}

// TestDigitsEveryByte: the word-at-a-time digit scan stops where a byte
// loop does, for every byte value at every place of a word and after it.
func TestDigitsEveryByte(t *testing.T) {
	for n := 1; n <= 18; n++ {
		for p := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("7", n))
				b[p] = byte(c)
				want := 0
				for want < len(b) && b[want] >= '0' && b[want] <= '9' {
					want++
				}
				if got := digits(b, 0); got != want {
					t.Fatalf("digits(%q) = %d, want %d", b, got, want)
				}
			}
		}
	}
}
