package bench

import (
	"strings"
	"testing"
)

// TestClientCommands: the client process counts between "go" and
// "pause", answers each command as the server expects, keeps pollers
// quiet between parts, and says "stop" is the end.
func TestClientCommands(t *testing.T) {
	c := &clients{}
	var spent clientCPU
	for _, step := range []struct {
		line, answer    string
		delivered       int64 // counted while the step's state holds
		measuring, stop bool
	}{
		{"go", "going\n", 3, true, false},
		{"count", "count 3 30\n", 2, true, false},
		{"pause", "paused 5 50\n", 4, false, false}, // not counted: paused
		{"count", "count 5 50\n", 0, false, false},
		{"go", "going\n", 1, true, false},
		{"bogus", "", 0, true, false},
		{"stop", "", 0, false, true},
	} {
		var out strings.Builder
		stop := c.command(step.line, &spent, &out)
		if out.String() != step.answer || stop != step.stop {
			t.Fatalf("%q: answered %q, stop %v; want %q, %v", step.line, out.String(), stop, step.answer, step.stop)
		}
		if c.measuring.Load() != step.measuring || c.quiet.Load() == step.measuring {
			t.Fatalf("%q: counting %v, pollers quiet %v; want counting %v", step.line, c.measuring.Load(), c.quiet.Load(), step.measuring)
		}
		if c.measuring.Load() { // what the clients would count now
			c.delivered.Add(step.delivered)
			c.wire.Add(10 * step.delivered)
		}
	}
}
