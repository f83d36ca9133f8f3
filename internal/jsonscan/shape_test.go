package jsonscan

import (
	"strings"
	"testing"
)

func TestShapeReadObject(t *testing.T) {
	loose := NewShape([]string{"type", "time", "trade_id", "T", "t"}, Declared("channels"))
	strict := NewShape([]string{"e", "E", "s"}, Strict)
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
	} {
		t.Run(c.name, func(t *testing.T) {
			it, _ := Members([]byte(c.in))
			vals := make([]Value, len(c.shape.keys))
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
