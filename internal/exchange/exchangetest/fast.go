package exchangetest

import (
	"reflect"
	"testing"

	"github.com/candlewire/candlewire/internal/jsonscan"
)

// FastMatchesFull fails t when the fast path accepts data and the full
// decoder decodes it differently or refuses it: the body of every venue's
// FuzzFastMatchesDecode.
func FastMatchesFull[E any](t *testing.T, data []byte, fast func([]byte) (E, bool), full func([]byte) (E, error)) {
	t.Helper()
	got, ok := fast(data)
	if !ok {
		return
	}
	want, err := full(data)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path %+v\nfull decoder %+v, %v\nframe %q", got, want, err, data)
	}
}

// FastTakes fails t unless the fast path takes every frame, to the full
// decoder's event: real frames must not miss it. With shapes, it also
// fails unless each frame's keys are all matched in place by them
// (jsonscan.Shape.Misses): the shapes list the keys in the order the venue
// sends them. Run it outside parallel tests.
func FastTakes[E any](t *testing.T, frames [][]byte, fast func([]byte) (E, bool), full func([]byte) (E, error), shapes ...*jsonscan.Shape) {
	t.Helper()
	misses := func() (n uint64) {
		for _, s := range shapes {
			n += s.Misses()
		}
		return n
	}
	for _, f := range frames {
		before := misses()
		if _, ok := fast(f); !ok {
			t.Fatalf("the fast path refuses a real frame: %s", f)
		}
		if n := misses() - before; n > 0 {
			t.Fatalf("%d keys out of the shapes' order in a frame the venue sends: %s", n, f)
		}
		FastMatchesFull(t, f, fast, full)
	}
}

// SlowNamed fails t unless decode takes frame on its full path and names
// its kind want there (Event.Slow), for the fast-path miss metric.
func SlowNamed[E any](t *testing.T, frame string, decode func([]byte) (E, error), slow func(E) string, want string) {
	t.Helper()
	ev, err := decode([]byte(frame))
	if err != nil || slow(ev) != want {
		t.Fatalf("Decode(%s) = %+v, %v; want Slow %q", frame, ev, err, want)
	}
}
