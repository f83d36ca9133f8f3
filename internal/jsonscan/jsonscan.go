package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Kind is the type of a JSON value.
type Kind uint8

// Value kinds.
const (
	Invalid Kind = iota
	String       // Raw holds the characters between the quotes, no escapes
	Escaped      // a string with escape sequences or bytes that are not UTF-8; Raw holds it undecoded
	Number       // Raw holds the number's text
	True
	False
	Null
	Object // Raw holds the whole object, braces included
	Array  // Raw holds the whole array, brackets included
)

// Value is one JSON value, pointing into the scanned input.
type Value struct {
	Kind Kind
	Raw  []byte
}

// maxDepth bounds nesting, so a hostile frame cannot recurse without end.
const maxDepth = 64

// Iter walks the members of one object or the elements of one array.
type Iter struct {
	b      []byte
	i      int
	close  byte // '}' or ']'
	depth  int  // of the walked value, 0 for the outermost
	first  bool
	done   bool
	failed bool
}

// Members starts walking the object b (surrounding whitespace allowed).
func Members(b []byte) (Iter, bool) { return open(b, '{', '}') }

// Elements starts walking the array b (surrounding whitespace allowed).
func Elements(b []byte) (Iter, bool) { return open(b, '[', ']') }

func open(b []byte, o, c byte) (Iter, bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != o {
		return Iter{failed: true}, false
	}
	return Iter{b: b, i: i + 1, close: c, first: true}, true
}

// After walks the object b from n, as Key leaves a walk after a key: the
// caller has matched b[:n] itself as the object's opening brace, members,
// and the key of the member whose value starts at n (whitespace allowed).
// A frame that begins with a known prefix then skips reading it.
func After(b []byte, n int) Iter {
	if n < 2 || n > len(b) || b[0] != '{' || b[n-1] != ':' {
		return Iter{failed: true} // not the end of a key: the caller's mistake
	}
	return Iter{b: b, i: skipWS(b, n), close: '}'}
}

// Member returns the next key and value of an object. ok is false at the
// end of the object or on a grammar error; Err tells them apart.
func (it *Iter) Member() (key []byte, v Value, ok bool) {
	if key, ok = it.Key(); !ok {
		return nil, Value{}, false
	}
	if v, ok = it.Value(); !ok {
		return nil, Value{}, false
	}
	return key, v, true
}

// Key reads the next key of an object and the colon after it, leaving the
// walk at the value: read it next with Value, or walk into it with Members.
// ok is false at the end of the object or on a grammar error (or a key with
// escape sequences).
func (it *Iter) Key() (key []byte, ok bool) {
	if !it.next() {
		return nil, false
	}
	return it.key(false)
}

// key reads a key and its colon at the current item; escaped accepts keys
// with escape sequences too (when only checking the grammar).
func (it *Iter) key(escaped bool) ([]byte, bool) {
	if it.i >= len(it.b) || it.b[it.i] != '"' {
		it.failed = true
		return nil, false
	}
	k, i := scanString(it.b, it.i)
	if k.Kind != String && !(escaped && k.Kind == Escaped) {
		it.failed = true
		return nil, false
	}
	i = skipWS(it.b, i)
	if i >= len(it.b) || it.b[i] != ':' {
		it.failed = true
		return nil, false
	}
	it.i = skipWS(it.b, i+1)
	return k.Raw, true
}

// atKey reads the key at the current item, and the colon after it, when
// it is key spelled plainly (the key a shape expects next); otherwise it
// leaves the walk where it was. It spares the scan of the key's string.
func (it *Iter) atKey(key string) bool {
	b, i, n := it.b, it.i, len(key)
	if i+n+2 > len(b) || b[i] != '"' || b[i+n+1] != '"' || string(b[i+1:i+1+n]) != key {
		return false
	}
	j := skipWS(b, i+n+2)
	if j >= len(b) || b[j] != ':' {
		return false
	}
	it.i = skipWS(b, j+1)
	return true
}

// Value reads the value after Key or Next.
func (it *Iter) Value() (Value, bool) {
	if it.failed {
		return Value{}, false
	}
	v, i := scanValue(it.b, it.i, it.depth+1)
	if v.Kind == Invalid {
		it.failed = true
		return Value{}, false
	}
	it.i = i
	return v, true
}

// member is Value for a member's value, with the values venues send most,
// strings and non-negative numbers, read without the calls between.
func (it *Iter) member() (Value, bool) {
	b, i := it.b, it.i
	if i < len(b) && !it.failed {
		switch c := b[i]; {
		case c == '"':
			if v, j := scanString(b, i); v.Kind != Invalid {
				it.i = j
				return v, true
			}
		case c >= '0' && c <= '9':
			if j := scanNumber(b, i); j > 0 {
				it.i = j
				return Value{Kind: Number, Raw: b[i:j]}, true
			}
		}
	}
	return it.Value()
}

// Next moves to the next element of an array, leaving the walk at it:
// read it with Value, or walk into it with Members or Elements. ok is false
// at the end of the array or on a grammar error.
func (it *Iter) Next() bool { return it.next() }

// Members, after Key or Next, walks into the value when it is an object,
// without scanning it first. Walk it to its end, then call Resume.
func (it *Iter) Members() (Iter, bool) { return it.enter('{', '}') }

// Elements, after Key or Next, walks into the value when it is an array,
// like Members.
func (it *Iter) Elements() (Iter, bool) { return it.enter('[', ']') }

func (it *Iter) enter(o, c byte) (Iter, bool) {
	if it.failed || it.i >= len(it.b) || it.b[it.i] != o || it.depth+1 >= maxDepth {
		it.failed = true
		return Iter{failed: true}, false
	}
	return Iter{b: it.b, i: it.i + 1, close: c, first: true, depth: it.depth + 1}, true
}

// Resume continues the walk after a nested value walked with Members or
// Elements; it fails the walk unless the nested walk reached its end.
func (it *Iter) Resume(sub *Iter) bool {
	if !sub.done || sub.failed {
		it.failed = true
		return false
	}
	it.i = sub.i
	return true
}

// Element returns the next value of an array, like Member.
func (it *Iter) Element() (Value, bool) {
	if !it.next() {
		return Value{}, false
	}
	return it.Value()
}

// next moves past a separator to the next item; false at the end.
func (it *Iter) next() bool {
	if it.failed || it.done {
		return false
	}
	i := skipWS(it.b, it.i)
	if i >= len(it.b) {
		it.failed = true
		return false
	}
	if it.b[i] == it.close && it.first {
		it.i, it.done = i+1, true
		return false
	}
	if !it.first {
		switch it.b[i] {
		case it.close:
			it.i, it.done = i+1, true
			return false
		case ',':
			i = skipWS(it.b, i+1)
		default:
			it.failed = true
			return false
		}
	}
	it.first, it.i = false, i
	return true
}

// Err reports whether the walk stopped on a grammar error (or an object key
// with escape sequences) rather than at the end.
func (it *Iter) Err() bool { return it.failed }

// End reports whether the walk reached the end of its object or array and
// only whitespace follows: the input was exactly one well-formed value.
func (it *Iter) End() bool { return it.done && !it.failed && skipWS(it.b, it.i) == len(it.b) }

func skipWS(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i // the common case: no whitespace
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanValue reads the value starting at b[i] (no leading whitespace) and
// returns it and the index just after it; Kind Invalid on error.
func scanValue(b []byte, i, depth int) (Value, int) {
	if i >= len(b) {
		return Value{}, i
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '-' || (c >= '0' && c <= '9'):
		end := scanNumber(b, i)
		if end < 0 {
			return Value{}, i
		}
		return Value{Kind: Number, Raw: b[i:end]}, end
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return Value{}, i
		}
		return scanNested(b, i, depth)
	}
	for _, lit := range [...]struct {
		text string
		kind Kind
	}{{"true", True}, {"false", False}, {"null", Null}} {
		if len(b)-i >= len(lit.text) && string(b[i:i+len(lit.text)]) == lit.text {
			return Value{Kind: lit.kind, Raw: b[i : i+len(lit.text)]}, i + len(lit.text)
		}
	}
	return Value{}, i
}

// special marks the bytes a string scan must stop at: the closing quote,
// a backslash, and control characters (which must be escaped).
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true // checked for UTF-8
	}
	return t
}()

// plain skips, eight bytes at a time, the bytes from j on that are none of
// '"', '\\', a control character or a byte of 0x80 and above, and returns
// where the first such byte is (or where fewer than eight are left). The
// lowest flagged byte of a word is exact: the zero-byte test's borrow only
// flags bytes above a true one.
func plain(b []byte, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(b); j += 8 {
		x := binary.LittleEndian.Uint64(b[j:])
		quote, backslash := x^(ones*'"'), x^(ones*'\\')
		if m := (x | (quote-ones)&^quote | (backslash-ones)&^backslash | (x-ones*0x20)&^x) & highs; m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	return j
}

// scanString reads a string starting at its opening quote.
func scanString(b []byte, i int) (Value, int) {
	kind := String
	for j := plain(b, i+1); j < len(b); j++ {
		if !special[b[j]] {
			continue
		}
		switch c := b[j]; {
		case c == '"':
			return Value{Kind: kind, Raw: b[i+1 : j]}, j + 1
		case c == '\\':
			if j+1 >= len(b) || !validEscape(b, j) {
				return Value{}, i
			}
			kind = Escaped
			if b[j+1] == 'u' {
				j += 5
			} else {
				j++
			}
		case c < 0x20:
			return Value{}, i // control characters must be escaped
		case c >= 0x80:
			// Bytes that are not UTF-8 are replaced by a full decoder:
			// the string is not raw text either.
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				kind = Escaped
			}
			j += size - 1
		}
	}
	return Value{}, i
}

func validEscape(b []byte, j int) bool {
	switch b[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		if j+6 > len(b) {
			return false
		}
		for _, h := range b[j+2 : j+6] {
			if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
				return false
			}
		}
		return true
	}
	return false
}

// scanNumber returns the end of the JSON number starting at b[i], or -1.
func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if j := digits(b, i+1); j > i+1 {
			i = j
		} else {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// digits returns where the run of ASCII digits from b[i] ends, eight
// bytes at a time while eight are left: a byte below '0' borrows into its
// high bit when '0' is taken from it, and one above '9' carries into it
// when 0x46 is added (bytes of 0x80 and above have it set already). The
// lowest flagged byte of a word is exact, as in plain.
func digits(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := (x | (x&^highs - ones*'0') | (x&^highs + ones*0x46)) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// scanNested reads an object or array at depth, checking everything
// inside it.
func scanNested(b []byte, i, depth int) (Value, int) {
	it := Iter{b: b, i: i + 1, close: ']', first: true, depth: depth}
	kind := Array
	if b[i] == '{' {
		it.close, kind = '}', Object
	}
	for {
		ok := it.next()
		if ok && kind == Object {
			_, ok = it.key(true)
		}
		if ok {
			_, ok = it.Value()
		}
		if !ok {
			break
		}
	}
	if it.failed {
		return Value{}, i
	}
	return Value{Kind: kind, Raw: b[i:it.i]}, it.i
}

// Int reads a JSON integer (no fraction, no exponent) of at most 18
// digits, so it always fits in int64.
func Int(v Value) (int64, bool) {
	if v.Kind != Number || len(v.Raw) == 0 {
		return 0, false
	}
	raw, neg := v.Raw, false
	if raw[0] == '-' {
		raw, neg = raw[1:], true
	}
	if len(raw) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, len(raw) > 0
}
