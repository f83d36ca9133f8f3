package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	label := func(int64) string { return "" }
	p := &Bar{w: &b, tty: true, from: 0, to: 100, label: label}
	p.Update(50)
	p.Done()
	if !strings.Contains(b.String(), " 50%") || !strings.Contains(b.String(), "100%") || !strings.Contains(b.String(), "####") {
		t.Fatalf("bar: %q", b.String())
	}
	var quiet bytes.Buffer
	q := &Bar{w: &quiet, tty: false, from: 0, to: 100, label: label}
	q.Update(50)
	q.Done()
	if quiet.Len() != 0 {
		t.Fatalf("drew a bar on a non-terminal: %q", quiet.String())
	}
}
