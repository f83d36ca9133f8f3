package jsonscan

import "encoding/binary"

// quoted is a key with its quotes, "key", prepared for a compare as
// words: its first sixteen bytes as two little-endian words and their
// masks, and for longer text its last eight bytes as a third word.
type quoted struct {
	w    [3]uint64
	mask [2]uint64
	text string // "key"
}

func quote(key string) quoted { return words(`"` + key + `"`) }

// words prepares text for at.
func words(text string) quoted {
	q := quoted{text: text}
	for i := 0; i < len(q.text) && i < 16; i++ {
		q.w[i/8] |= uint64(q.text[i]) << (8 * (i % 8))
		q.mask[i/8] |= 0xff << (8 * (i % 8))
	}
	if n := len(text); n > 16 {
		q.w[2] = binary.LittleEndian.Uint64([]byte(text[n-8:]))
	}
	return q
}

// at reports whether b holds q's text at i, comparing it as words; b
// must have sixteen bytes, and the text, from i.
func (q *quoted) at(b []byte, i int) bool {
	p := (*[16]byte)(b[i:])
	return binary.LittleEndian.Uint64(p[:8])&q.mask[0] == q.w[0] && binary.LittleEndian.Uint64(p[8:])&q.mask[1] == q.w[1] &&
		(len(q.text) <= 16 || q.tail(b, i))
}

// tail compares the bytes of text longer than sixteen after its first
// sixteen: its last eight as a word, and those between as a string.
func (q *quoted) tail(b []byte, i int) bool {
	n := len(q.text)
	return binary.LittleEndian.Uint64(b[i+n-8:]) == q.w[2] && (n <= 24 || string(b[i+16:i+n-8]) == q.text[16:n-8])
}

// atQuoted is atKey for a key prepared by quote: its first sixteen bytes,
// quotes included, are compared as two words.
func (it *Iter) atQuoted(q *quoted) bool {
	b, i, n := it.b, it.i, len(q.text)
	if i+16 > len(b) || i+n >= len(b) {
		return it.atKey(q.text[1 : n-1])
	}
	if !q.at(b, i) {
		return false
	}
	j := i + n
	if b[j] != ':' {
		if j = skipWS(b, j); j >= len(b) || b[j] != ':' {
			return false
		}
	}
	it.i = skipWS(b, j+1)
	return true
}

// inOrder reads, as one loop, the members that follow in compact JSON in
// the shape's order from slot next on: each ,"key": compared as two words,
// and its value scanned in place. It stops, leaving the walk after the
// last member it read, at anything else (whitespace, another key, the
// end of the object, a repeated key, a grammar error), for ReadObject's
// general walk to read; it returns the next slot. The walk must be after
// a member: not at the object's start, nor failed or done.
func (s *Shape) inOrder(it *Iter, vals []Value, next int) int {
	b, i := it.b, it.i
	for ; next < len(s.sep) && vals[next].Kind == Invalid; next++ {
		sep := &s.sep[next]
		j := i + len(sep.text) // the value's start
		if i+16 > len(b) || j >= len(b) {
			break
		}
		// sep.at written out: the compiler does not inline at, and the
		// call cost a BitMEX trade insert about 700 instructions of 10,000.
		p := (*[16]byte)(b[i:])
		if binary.LittleEndian.Uint64(p[:8])&sep.mask[0] != sep.w[0] || binary.LittleEndian.Uint64(p[8:])&sep.mask[1] != sep.w[1] ||
			len(sep.text) > 16 && !sep.tail(b, i) {
			break
		}
		// member's fast cases, on the local index (scanValue for every
		// value cost 270 more instructions a frame).
		var v Value
		k := -1
		switch c := b[j]; {
		case c == '"':
			v, k = scanString(b, j)
		case c >= '0' && c <= '9':
			if k = scanNumber(b, j); k > 0 {
				v = Value{Kind: Number, Raw: b[j:k]}
			}
		default:
			v, k = scanValue(b, j, it.depth+1)
		}
		if v.Kind == Invalid {
			break
		}
		vals[next], i = v, k
	}
	it.i = i
	return next
}

// leads reads the object's first member when it is the shape's first key
// as compact JSON has it, "key": and its value, as inOrder reads the
// members after; otherwise it leaves the walk where it was. The walk must
// be at the object's start, neither failed nor done (as ReadObject
// calls it).
func (s *Shape) leads(it *Iter, vals []Value) bool {
	b, i, q := it.b, it.i, &s.lead
	j := i + len(q.text) // the value's start
	if len(s.keys) == 0 || i+16 > len(b) || j >= len(b) || !q.at(b, i) {
		return false
	}
	v, k := scanValue(b, j, it.depth+1)
	if v.Kind == Invalid {
		return false
	}
	vals[0], it.i, it.first = v, k, false
	return true
}
