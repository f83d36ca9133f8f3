package jsonscan

import (
	"strings"
	"testing"
)

// TestInPlace: leads and inOrder read the compact members in the shape's
// order where they stand, and stop, leaving the walk after the last
// member they read, at anything else (ReadObject's general walk reads
// it, as TestShapeReadObject checks).
func TestInPlace(t *testing.T) {
	s := NewShape([]string{"a", "keyOfTwentyThreeLetters", "tickDirection"}) // ,"key": of 27 and 17 bytes
	for _, c := range []struct {
		name, in string
		read     int    // slots read in place
		rest     string // the input after them
	}{
		{"all in place", `{"a":1,"keyOfTwentyThreeLetters":"x","tickDirection":[2]}`, 3, `}`},
		{"space before the first key", `{ "a":1}`, 0, ` "a":1}`},
		{"space before a value", `{"a": 1}`, 0, `"a": 1}`},
		{"space after a comma", `{"a":1, "keyOfTwentyThreeLetters":2}`, 1, `, "keyOfTwentyThreeLetters":2}`},
		{"out of order", `{"a":1,"tickDirection":2}`, 1, `,"tickDirection":2}`},
		{"a longer key", `{"a":1,"keyOfTwentyThreeLettersX":2}`, 1, `,"keyOfTwentyThreeLettersX":2}`},
		{"the middle of 27 bytes differs", `{"a":1,"keyOfTwentyThrXeLetters":2}`, 1, `,"keyOfTwentyThrXeLetters":2}`},
		{"the last of 27 bytes differs", `{"a":1,"keyOfTwentyThreeLetters"X2}`, 1, `,"keyOfTwentyThreeLetters"X2}`},
		{"the 17th byte differs", `{"a":1,"keyOfTwentyThreeLetters":2,"tickDirection"X"x"}`, 2, `,"tickDirection"X"x"}`},
		{"the input ends after a separator", `{"a":1,"keyOfTwentyThreeLetters":`, 1, `,"keyOfTwentyThreeLetters":`},
		{"a bad value", `{"a":1,"keyOfTwentyThreeLetters":-}`, 1, `,"keyOfTwentyThreeLetters":-}`},
		{"a short input", `{"a":1}`, 0, `"a":1}`}, // fewer than sixteen bytes from the key
	} {
		t.Run(c.name, func(t *testing.T) {
			it, _ := Members([]byte(c.in))
			vals := make([]Value, len(s.keys))
			n := 0
			if s.leads(&it, vals) {
				n = s.inOrder(&it, vals, 1)
			}
			if rest := string(it.b[it.i:]); n != c.read || rest != c.rest {
				t.Fatalf("read %d slots, rest %q; want %d, %q", n, rest, c.read, c.rest)
			}
			for i, v := range vals {
				if (v.Kind != Invalid) != (i < n) {
					t.Errorf("slot %d: %v %q", i, v.Kind, v.Raw)
				}
			}
		})
	}
}

// TestInPlaceDepth: a value read in place is held to the nesting limit as
// the general walk holds it, for the first member and those after.
func TestInPlaceDepth(t *testing.T) {
	s := NewShape([]string{"a", "b"})
	read := func(d int, obj string) bool {
		b := []byte(strings.Repeat("[", d) + obj + strings.Repeat("]", d))
		it, _ := Elements(b)
		for range d - 1 {
			it.Next()
			var ok bool
			if it, ok = it.Elements(); !ok {
				return false
			}
		}
		it.Next()
		o, ok := it.Members()
		return ok && s.ReadObject(&o, make([]Value, 2))
	}
	accepted, refused := 0, 0
	for d := maxDepth - 5; d < maxDepth; d++ {
		for n := range 4 {
			v := strings.Repeat("[", n) + "1" + strings.Repeat("]", n)
			first, spaced := read(d, `{"a":`+v+`}`), read(d, `{ "a" : `+v+`}`)
			later, laterSpaced := read(d, `{"a":0,"b":`+v+`}`), read(d, `{"a":0, "b" : `+v+`}`)
			if first != spaced || later != laterSpaced {
				t.Errorf("depth %d, value %s: in place %v and %v, spaced %v and %v", d, v, first, later, spaced, laterSpaced)
			}
			if first {
				accepted++
			} else {
				refused++
			}
		}
	}
	if accepted == 0 || refused == 0 {
		t.Fatalf("%d accepted, %d refused: the limit is not reached", accepted, refused)
	}
}

// TestReadObjectAtTheEnd: ReadObject on a walk at its end reads nothing
// and leaves the walk where it was, so the walk around it goes on.
func TestReadObjectAtTheEnd(t *testing.T) {
	s := NewShape([]string{"a", "b"})
	it, _ := Members([]byte(`{"o":{"b":1},"a":"xxxxxxxxxxxxxxxx"}`))
	it.Key()
	sub, _ := it.Members()
	vals := make([]Value, 2)
	if !s.ReadObject(&sub, vals) || string(vals[1].Raw) != "1" {
		t.Fatalf("first read: %q", vals)
	}
	at := sub.i
	if !s.ReadObject(&sub, vals) || vals[0].Kind != Invalid || vals[1].Kind != Invalid || sub.i != at {
		t.Fatalf("second read: %q, walk moved from %d to %d", vals, at, sub.i)
	}
	if k, v, ok := func() ([]byte, Value, bool) { it.Resume(&sub); return it.Member() }(); !ok || string(k) != "a" || string(v.Raw) != "xxxxxxxxxxxxxxxx" {
		t.Fatalf("the outer walk goes on with %q %q %v", k, v.Raw, ok)
	}
}

// TestShapeRefusesAKeyTwice: a shape's first slot of a key would keep the
// first of its values, where a full decoder keeps the last.
func TestShapeRefusesAKeyTwice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewShape accepted a key twice")
		}
	}()
	NewShape([]string{"a", "b", "a"})
}
