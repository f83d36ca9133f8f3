package jsonscan

import "bytes"

// Shape is the keys of an object a fast path reads, so that it reads only
// what its full decoder would read the same way. A full decoder built on
// encoding/json or go-json matches keys without regard to case and keeps
// the last of repeated keys; a fast path leaves such objects to it. Make
// one with NewShape; it is read-only after, so decoders share it.
type Shape struct {
	keys     []string
	strict   bool
	declared []string
	table    [shapeTable]int8 // open addressing over keys: index+1, 0 empty
}

const shapeTable = 64

// ShapeOption adds to a shape.
type ShapeOption func(*Shape)

// Strict refuses any key but the shape's.
func Strict(s *Shape) { s.strict = true }

// Declared names keys the full decoder knows that the fast path does not
// read: a key matching one of them without regard to case fails the read.
func Declared(keys ...string) ShapeOption { return func(s *Shape) { s.declared = keys } }

// NewShape returns the shape whose read keys are keys: ReadObject puts the
// value of keys[i] in vals[i]. Other keys are skipped, unless one matches a
// read or declared key without regard to case (or the shape is Strict).
// It takes at most 32 keys.
func NewShape(keys []string, opts ...ShapeOption) *Shape {
	if len(keys) > shapeTable/2 {
		panic("jsonscan: a shape of more than 32 keys")
	}
	s := &Shape{keys: keys}
	for _, o := range opts {
		o(s)
	}
	for i, k := range keys {
		h := hashKey([]byte(k))
		for s.table[h] != 0 {
			h = (h + 1) % shapeTable
		}
		s.table[h] = int8(i + 1)
	}
	return s
}

func hashKey(k []byte) int {
	if len(k) == 0 {
		return 0
	}
	return (len(k)*131 + int(k[0])*31 + int(k[len(k)/2])*7 + int(k[len(k)-1])) % shapeTable
}

// ReadObject walks the members of an object into vals (len(vals) ==
// len(keys); absent keys are left Invalid). ok is false on a grammar
// error, a repeated key, or a key the shape refuses.
func (s *Shape) ReadObject(it *Iter, vals []Value) bool {
	clear(vals)
	for {
		k, v, ok := it.Member()
		if !ok {
			return !it.Err()
		}
		i := s.Index(k)
		switch {
		case i >= 0 && vals[i].Kind != Invalid:
			return false
		case i >= 0:
			vals[i] = v
		case s.strict || s.Folds(k):
			return false
		}
	}
}

// Index is the slot of key k in the shape's keys, or -1.
func (s *Shape) Index(k []byte) int {
	for h := hashKey(k); s.table[h] != 0; h = (h + 1) % shapeTable {
		if i := int(s.table[h]) - 1; s.keys[i] == string(k) {
			return i
		}
	}
	return -1
}

// Folds reports whether k matches a read or declared key without regard
// to case: a full decoder would take it.
func (s *Shape) Folds(k []byte) bool {
	for _, keys := range [2][]string{s.keys, s.declared} {
		for _, key := range keys {
			if bytes.EqualFold(k, []byte(key)) { // Unicode folding: "ſ" matches "s"
				return true
			}
		}
	}
	return false
}

// Bool reads true or false.
func Bool(v Value) (b, ok bool) { return v.Kind == True, v.Kind == True || v.Kind == False }

// IsNumber reports whether b is exactly one JSON number: what a
// json.Number accepts from a string.
func IsNumber(b []byte) bool { return len(b) > 0 && scanNumber(b, 0) == len(b) }
