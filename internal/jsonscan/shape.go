package jsonscan

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Shape is the keys of an object a fast path reads, so that it reads only
// what its full decoder would read the same way. A full decoder built on
// encoding/json or go-json matches keys without regard to case and keeps
// the last of repeated keys; a fast path leaves such objects to it. Make
// one with NewShape; its keys are read-only after, and it counts its
// misses atomically, so decoders share it.
type Shape struct {
	keys     []string
	quoted   []quoted // keys as atQuoted reads them
	sep      []quoted // ,"key": as inOrder reads them
	lead     quoted   // "key": of the first key, as leads reads it
	strict   bool
	declared []string
	table    [shapeTable]int8 // open addressing over keys: index+1, 0 empty
	lens     uint64           // bit n: a read or declared key is n bytes long (n < 64)
	misses   atomic.Uint64
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
// value of keys[i] in vals[i]. Keys in the order the venue sends them are
// read fastest. Other keys are skipped, unless one matches a
// read or declared key without regard to case (or the shape is Strict).
// It takes at most 32 keys.
func NewShape(keys []string, opts ...ShapeOption) *Shape {
	if len(keys) > shapeTable/2 {
		panic("jsonscan: a shape of more than 32 keys")
	}
	s := &Shape{keys: keys}
	for i, k := range keys {
		// atKey matches a key's bytes as they are: a key must spell itself.
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 || r >= 0x80 }) {
			panic("jsonscan: a shape key must be plain ASCII text, not empty: " + strconv.Quote(k))
		}
		if slices.Contains(keys[:i], k) {
			panic("jsonscan: a shape key twice: " + strconv.Quote(k)) // its first slot would keep the first value
		}
	}
	for _, o := range opts {
		o(s)
	}
	if len(keys) > 0 {
		s.lead = words(`"` + keys[0] + `":`)
	}
	for _, k := range keys {
		s.quoted = append(s.quoted, quote(k))
		s.sep = append(s.sep, words(`,"`+k+`":`))
	}
	for _, k := range append(slices.Clone(keys), s.declared...) {
		s.lens |= 1 << min(len(k), 63)
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
	if it.done || it.failed {
		return !it.failed // nothing more to read (and inOrder must not look)
	}
	next := 0
	if it.first && s.leads(it, vals) {
		next = 1
	}
	for {
		// Keys in the order of the shape need no scan and no lookup; in
		// compact JSON, not even a look at the separator on its own.
		if !it.first {
			next = s.inOrder(it, vals, next)
		}
		i := next
		if !it.next() {
			return !it.Err()
		}
		if next >= len(s.keys) || !it.atQuoted(&s.quoted[next]) {
			s.misses.Add(1)
			k, ok := it.key(false)
			if !ok {
				return false
			}
			if i = s.Index(k); i < 0 && (s.strict || s.Folds(k)) {
				return false
			}
		}
		v, ok := it.member()
		switch {
		case !ok:
			return false
		case i < 0:
		case vals[i].Kind != Invalid:
			return false
		default:
			vals[i], next = v, i+1
		}
	}
}

// Misses counts the keys ReadObject could not match in place, as the key
// the shape expects next: keys out of the shape's order, and keys it does
// not read. Each is scanned and looked up, which costs more.
func (s *Shape) Misses() uint64 { return s.misses.Load() }

// Index is the slot of key k in the shape's keys, or -1.
func (s *Shape) Index(k []byte) int {
	for h := hashKey(k); s.table[h] != 0; h = (h + 1) % shapeTable {
		if i := int(s.table[h]) - 1; same(s.keys[i], k) {
			return i
		}
	}
	return -1
}

// same is key == string(k), with the first byte compared inline (most
// keys differ there, and many are one byte long).
func same(key string, k []byte) bool {
	return len(key) == len(k) && key[0] == k[0] && (len(k) == 1 || key == string(k))
}

// Folds reports whether k matches a read or declared key without regard
// to case: a full decoder would take it.
func (s *Shape) Folds(k []byte) bool {
	if len(k) < 63 && s.lens&(1<<len(k)) == 0 && ascii(k) {
		return false // no key of its length, and ASCII folds only to its length
	}
	return FoldsAny(k, s.keys) || FoldsAny(k, s.declared)
}

func ascii(k []byte) bool {
	for _, c := range k {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FoldsAny reports whether k matches one of keys without regard to case,
// as encoding/json matches keys (Unicode folding: "ſ" matches "s").
func FoldsAny(k []byte, keys []string) bool {
	isASCII := ascii(k)
	for _, key := range keys {
		if isASCII && len(key) != len(k) {
			continue // ASCII folds to ASCII of the same length
		}
		if bytes.EqualFold(k, []byte(key)) {
			return true
		}
	}
	return false
}

// Bool reads true or false.
func Bool(v Value) (b, ok bool) { return v.Kind == True, v.Kind == True || v.Kind == False }

// IsNumber reports whether b is exactly one JSON number: what a
// json.Number accepts from a string.
func IsNumber(b []byte) bool { return len(b) > 0 && scanNumber(b, 0) == len(b) }

// EachObject walks the elements of an array, each an object read with the
// shape into vals, and calls each after every one. ok is false on a
// grammar error, an element that is not an object, an object the shape or
// each refuses, and an empty array.
func (s *Shape) EachObject(rows *Iter, vals []Value, each func() bool) bool {
	n := 0
	for ; rows.Next(); n++ {
		row, ok := rows.Members()
		if !ok || !s.ReadObject(&row, vals) || !rows.Resume(&row) || !each() {
			return false
		}
	}
	return !rows.Err() && n > 0
}

// Last continues the walk after sub, the value of an object's member, and
// reports whether that member was the object's last and the object the
// whole input.
func (it *Iter) Last(sub *Iter) bool {
	if !it.Resume(sub) {
		return false
	}
	_, more := it.Key()
	return !more && it.End()
}
