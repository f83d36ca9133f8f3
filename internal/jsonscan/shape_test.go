package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestShapeReadObject(t *testing.T) {
	loose := NewShape([]string{"type", "time", "trade_id", "T", "t"}, Declared("channels"))
	strict := NewShape([]string{"e", "E", "s"}, Strict)
	long := NewShape([]string{"foreignNotional", "timestamp", "symbol"})
	longer := NewShape([]string{"a", "keyOfTwentyThreeLetters", "tickDirection"}) // ,"key": of 27 and 17 bytes
	for _, c := range []struct {
		name  string
		shape *Shape
		in    string
		ok    bool
		want  []string // raw values by slot, "" for absent
	}{
		{"all keys, any order", loose, `{"time":"x","type":"match","t":1,"trade_id":2,"T":3}`, true, []string{"match", "x", "2", "3", "1"}},
		{"others skipped", loose, `{"type":"a","maker_order_id":"m","sequence":9}`, true, []string{"a", "", "", "", ""}},
		{"repeated key", loose, `{"type":"a","type":"b"}`, false, nil},
		{"key differing in case", loose, `{"Type":"a"}`, false, nil},
		{"declared key differing in case", loose, `{"CHANNELS":[]}`, false, nil},
		{"unicode fold (long s)", NewShape([]string{"s"}), `{"ſ":1}`, false, nil},
		{"strict refuses others", strict, `{"e":"kline","x":1}`, false, nil},
		{"strict, exact", strict, `{"E":1,"e":"kline","s":"BTC"}`, true, []string{"kline", "1", "BTC"}},
		{"grammar error", loose, `{"type":"a",}`, false, nil},
		{"long keys in order", long, `{"foreignNotional":1,"foreignNotionaX":2,"timestamp":"t","symbol":"s"}`, true, []string{"1", "t", "s"}},
		{"long key differing after sixteen bytes", long, `{"foreignNotionalX":1,"timestamp":"t"}`, true, []string{"", "t", ""}},
		{"key a prefix of the one sent", long, `{"timestamps":1,"symbol":"s"}`, true, []string{"", "", "s"}},
		{"space before the colon", long, `{"foreignNotional" :1, "timestamp"	:"t"}`, true, []string{"1", "t", ""}},
		{"key at the end of the input", long, `{"foreignNotional":1,"timestamp":"t","symbol"`, false, nil},
		{"short input", long, `{"symbol":1}`, true, []string{"", "", "1"}},
		{"compact, in order", long, `{"foreignNotional":1,"timestamp":"t","symbol":"s","x":0}`, true, []string{"1", "t", "s"}},
		{"space after the comma", long, `{"foreignNotional":1, "timestamp":"t",` + "\n" + `"symbol":"s"}`, true, []string{"1", "t", "s"}},
		{"space after the colon", long, `{"foreignNotional":1,"timestamp": "t","symbol":` + "\t" + `"s"}`, true, []string{"1", "t", "s"}},
		{"separator then a longer key", long, `{"foreignNotional":1,"timestampX":"t","symbol":"s"}`, true, []string{"1", "", "s"}},
		{"separator then the key repeated", long, `{"foreignNotional":1,"timestamp":"t","timestamp":"u"}`, false, nil},
		{"separator at the end of the input", long, `{"foreignNotional":1,"timestamp":`, false, nil},
		{"separators of 27 and 17 bytes", longer, `{"a":1,"keyOfTwentyThreeLetters":2,"tickDirection":"x"}`, true, []string{"1", "2", "x"}},
		{"differing in the middle of 27 bytes", longer, `{"a":1,"keyOfTwentyThrXeLetters":2,"tickDirection":"x"}`, true, []string{"1", "", "x"}},
		{"differing in the last 8 of 27 bytes", longer, `{"a":1,"keyOfTwentyThreeLetterX":2,"tickDirection":"x"}`, true, []string{"1", "", "x"}},
		{"differing in the last byte of 17", longer, `{"a":1,"keyOfTwentyThreeLetters":2,"tickDirection"X"x"}`, false, nil},
		{"space before the colon after 17", longer, `{"a":1,"keyOfTwentyThreeLetters":2,"tickDirection" :"x"}`, true, []string{"1", "2", "x"}},
		{"a key read elsewhere, then repeated in place", longer, `{"keyOfTwentyThreeLetters":1,"a":2,"keyOfTwentyThreeLetters":3}`, false, nil},
		{"a separator of 27 bytes at the end of the input", longer, `{"a":1,"keyOfTwentyThreeLetters":`, false, nil},
		{"a value in place that is not a string or a number", longer, `{"a":1,"keyOfTwentyThreeLetters":[2,{"b":null}],"tickDirection":null}`, true, []string{"1", "[2,{\"b\":null}]", "null"}},
		{"a bad value in place", longer, `{"a":1,"keyOfTwentyThreeLetters":01}`, false, nil},
		{"first key alone", long, `{"foreignNotional":-1}`, true, []string{"-1", "", ""}},
		{"first key repeated", long, `{"foreignNotional":1,"foreignNotional":2}`, false, nil},
		{"space before the first key", long, `{ "foreignNotional":1,"timestamp":"t"}`, true, []string{"1", "t", ""}},
		{"first key, a bad value", long, `{"foreignNotional":01}`, false, nil},
		{"first key, a string value", long, `{"foreignNotional":"1"}`, true, []string{"1", "", ""}},
		{"first key, short input", long, `{"foreignNotional":`, false, nil},
		{"empty object", long, `{}`, true, []string{"", "", ""}},
		{"two separators", long, `{"foreignNotional":1,,"timestamp":"t"}`, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			it, _ := Members([]byte(c.in))
			vals := stale(len(c.shape.keys)) // as a decoder's, after the row before
			ok := c.shape.ReadObject(&it, vals)
			if ok != c.ok {
				t.Fatalf("ReadObject = %v, want %v", ok, c.ok)
			}
			for i, w := range c.want {
				if string(vals[i].Raw) != w && !(w == "" && vals[i].Kind == Invalid) {
					t.Errorf("slot %d (%s) = %q, want %q", i, c.shape.keys[i], vals[i].Raw, w)
				}
			}
		})
	}
}

// stale returns n values left from an earlier read.
func stale(n int) []Value {
	vals := make([]Value, n)
	for i := range vals {
		vals[i] = Value{Kind: Number, Raw: []byte("7")}
	}
	return vals
}

// TestShapeIndexFindsEveryKey: the hash table finds each key of shapes
// whose keys collide in it, and nothing else.
func TestShapeIndexFindsEveryKey(t *testing.T) {
	keys := []string{"t", "T", "s", "i", "f", "L", "o", "h", "l", "c", "v", "q", "n", "x", "V", "Q", "B",
		"type", "time", "tape", "timestamp", "symbol", "side", "size", "price", "px", "sz", "ts", "tradeId", "instId", "count", "open"}
	s := NewShape(keys)
	for i, k := range keys {
		if got := s.Index([]byte(k)); got != i {
			t.Errorf("Index(%q) = %d, want %d", k, got, i)
		}
	}
	for _, k := range []string{"", "y", "TYPE", "tim", "timestamps", "opens"} {
		if got := s.Index([]byte(k)); got != -1 {
			t.Errorf("Index(%q) = %d, want -1", k, got)
		}
	}
}

func TestIsNumber(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "-0.5": true, "1e5": true, "01": false, "+1": false, ".5": false, "1.": false, "": false, "1 ": false} {
		if got := IsNumber([]byte(in)); got != want {
			t.Errorf("IsNumber(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestEachObjectAndLast(t *testing.T) {
	s := NewShape([]string{"p"})
	for _, c := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{`{"data":[{"p":"1"},{"p":"2"}]}`, []string{"1", "2"}, true},
		{`{"data":[]}`, nil, false},
		{`{"data":[{"p":"1"},3]}`, []string{"1"}, false},
		{`{"data":[{"p":"1"},{"p":"x"}]}`, []string{"1"}, false}, // each refuses x
		{`{"data":[{"p":"1"}],"more":1}`, []string{"1"}, false},  // not the last member
		{`{"data":[{"p":"1"}]} x`, []string{"1"}, false},         // not the whole input
	} {
		it, _ := Members([]byte(c.in))
		it.Key()
		rows, _ := it.Elements()
		var vals [1]Value
		var got []string
		ok := s.EachObject(&rows, vals[:], func() bool {
			if string(vals[0].Raw) == "x" {
				return false
			}
			got = append(got, string(vals[0].Raw))
			return true
		})
		ok = ok && it.Last(&rows)
		if ok != c.ok || strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: read %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestShapeRefusesKeysThatDoNotSpellThemselves: a shape matches the key
// it expects next by its bytes, so a key that JSON would write otherwise
// (empty, a quote, a backslash, a control or non-ASCII character) is a
// programming error.
func TestShapeRefusesKeysThatDoNotSpellThemselves(t *testing.T) {
	for _, k := range []string{"", `a"`, `a\`, "a\n", "é"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewShape accepted key %q", k)
				}
			}()
			NewShape([]string{"ok", k})
		}()
	}
}

// FuzzShapeReadObject: where a shape reads an object, encoding/json reads
// the same values under the shape's keys, and no key it would take is
// skipped.
func FuzzShapeReadObject(f *testing.F) {
	for _, s := range []string{`{"timestamp":"2021-07-22T22:36:11.685Z","symbol":"XBTUSD","size":100,"price":32180.5}`,
		`{"foreignNotional":1,"timestamp":"t"}`, `{"symbol" : "a" , "size":-1e5}`, `{"Size":1}`, `{"price":[1,{"a":null}]}`,
		`{"timestamp":"t","symbol":"s","size":1,"price":2,"foreignNotional":3,"keyOfTwentyThreeLetters":4}`} {
		f.Add(s)
	}
	shape := NewShape([]string{"timestamp", "symbol", "size", "price", "foreignNotional", "keyOfTwentyThreeLetters"})
	f.Fuzz(func(t *testing.T, s string) {
		it, ok := Members([]byte(s))
		vals := stale(len(shape.keys))
		if !ok || !shape.ReadObject(&it, vals) || !it.End() {
			return
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("%q read, but encoding/json refuses it: %v", s, err)
		}
		for i, k := range shape.keys {
			w, has := want[k]
			got := vals[i]
			if got.Kind == String || got.Kind == Escaped {
				got.Raw = []byte(`"` + string(got.Raw) + `"`)
			}
			if has != (vals[i].Kind != Invalid) || has && string(w) != string(got.Raw) {
				t.Fatalf("%q: slot %s = %q (%v), encoding/json %q (%v)", s, k, got.Raw, vals[i].Kind, w, has)
			}
		}
	})
}

// TestAfter: a walk started after a prefix the caller matched goes on as a
// walk that read the prefix itself.
func TestAfter(t *testing.T) {
	for _, c := range []struct {
		in, prefix string
		want       string // the value, then the members after it, "!" on a failure
	}{
		{`{"a":1,"data":[1,2]}`, `{"a":1,"data":`, `[1,2]`},
		{`{"data": [1] }`, `{"data":`, `[1]`},
		{`{"data":[1],"x":"y"}`, `{"data":`, `[1] x=y`},
		{`{"data":[1],}`, `{"data":`, `[1] !`},
		{`{"data":[1]`, `{"data":`, `[1] !`},
		{`{"data":`, `{"data":`, `!`},
		{`{"data":[1]}`, `{"data"`, `!`}, // not the end of a key
		{`["data":[1]]`, `["data":`, `!`},
	} {
		it := After([]byte(c.in), len(c.prefix))
		var got []string
		if v, ok := it.Value(); ok {
			got = append(got, string(v.Raw))
			for k, v, ok := it.Member(); ok; k, v, ok = it.Member() {
				got = append(got, string(k)+"="+string(v.Raw))
			}
		}
		if it.Err() || !it.End() {
			got = append(got, "!")
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s after %d bytes: %q, want %q", c.in, len(c.prefix), strings.Join(got, " "), c.want)
		}
	}
}
