package exchangetest

import (
	"errors"
	"strings"
	"testing"
)

// DecodeCase is one frame of a decoder's table test: In decodes to an
// event of Kind (and Check looks further), or, when Bad is set, fails with
// an error that says Bad.
type DecodeCase[E any, K comparable] struct {
	Name, In string
	Kind     K
	Check    func(t *testing.T, e E)
	Bad      string
}

// RunDecode runs cases through decode, each as a subtest. kind reads an
// event's kind; a failure must also wrap sentinel when it is not nil.
func RunDecode[E any, K comparable](t *testing.T, decode func([]byte) (E, error), kind func(E) K, sentinel error, cases []DecodeCase[E, K]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			e, err := decode([]byte(c.In))
			if c.Bad != "" {
				if err == nil || !strings.Contains(err.Error(), c.Bad) || (sentinel != nil && !errors.Is(err, sentinel)) {
					t.Fatalf("err %v, want one saying %q", err, c.Bad)
				}
				return
			}
			if err != nil || kind(e) != c.Kind {
				t.Fatalf("Decode = %+v, %v; want kind %v", e, err, c.Kind)
			}
			if c.Check != nil {
				c.Check(t, e)
			}
		})
	}
}
