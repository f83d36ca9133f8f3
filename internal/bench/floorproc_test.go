package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestRunFloorAnswersEachRequest: the floor process opens its sockets
// once, says how many, and answers each request line, plain or live, over
// the same sockets; a request it cannot read gets an error, and the next
// one is answered still.
func TestRunFloorAnswersEachRequest(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the write floor is measured on Linux only")
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- RunFloor(context.Background(), 40, inR, outW); outW.Close() }()
	out := bufio.NewReader(outR)
	if line, err := out.ReadString('\n'); err != nil || line != "ready 40\n" {
		t.Fatalf("first line %q, %v; want ready 40", line, err)
	}
	for _, c := range []struct {
		name, req string
		bad       bool
	}{
		{"plain", `{"size":339,"duration":20000000}`, false},
		{"not JSON", `plain 339 20ms`, true},
		{"live", `{"live":true,"size":200,"duration":20000000}`, false},
		{"plain again", `{"size":64,"duration":20000000}`, false},
	} {
		if _, err := io.WriteString(inW, c.req+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := out.ReadBytes('\n')
		if err != nil {
			t.Fatalf("%s: no answer: %v", c.name, err)
		}
		var rep floorReply
		if err := json.Unmarshal(line, &rep); err != nil {
			t.Fatalf("%s: answer %q: %v", c.name, line, err)
		}
		if c.bad != (rep.Err != "") {
			t.Fatalf("%s: error %q, want one: %v", c.name, rep.Err, c.bad)
		}
		if !c.bad && (rep.Floor.Sockets != 40 || rep.Floor.Writes < 40 || rep.Floor.Per1000() <= 0) {
			t.Fatalf("%s: floor %+v", c.name, rep.Floor)
		}
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunFloor: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunFloor did not end with its input")
	}
}

// TestRunFloorLongLine: a request is one line; one longer than the
// scanner's buffer ends RunFloor with an error, not a hang.
func TestRunFloorLongLine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the write floor is measured on Linux only")
	}
	in := strings.NewReader(strings.Repeat("x", 1<<20) + "\n")
	var out strings.Builder
	if err := RunFloor(context.Background(), 2, in, &out); err == nil {
		t.Fatalf("RunFloor took a 1 MiB line; answered %q", out.String())
	}
}
