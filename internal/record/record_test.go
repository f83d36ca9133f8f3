package record

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/realdata"
)

// TestRoundTripAndRotation writes two connections, one rotated by size,
// and reads every file back: each starts with its connection's connect
// line and holds that connection's frames in order, with their times.
func TestRoundTripAndRotation(t *testing.T) {
	dir := t.TempDir()
	r, err := New(Config{Dir: dir, Venue: "okx", MaxBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 123456000)
	a := r.Open("wss://x/ws/v5/public", t0)
	b := r.Open("wss://x/ws/v5/business", t0.Add(time.Second))
	a.Sent(t0.Add(time.Millisecond), []byte(`{"op":"subscribe"}`))
	for i := range 10 {
		a.Received(t0.Add(time.Duration(i+2)*time.Millisecond), []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", 40))))
	}
	b.Received(t0.Add(2*time.Second), []byte("{\n  \"pretty\": \"json\"\n}"))
	b.Received(t0.Add(3*time.Second), []byte("not json\nwith a break"))
	a.Close()
	b.Close()
	if r.Skipped() != 1 {
		t.Errorf("%d frames skipped, want the one text frame with a line break", r.Skipped())
	}
	var got []string
	for _, path := range r.Files() {
		lines, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) == 0 || lines[0].Kind != 'c' {
			t.Fatalf("%s does not start with a connect line: %+v", path, lines)
		}
		for _, l := range lines[1:] {
			got = append(got, fmt.Sprintf("%s %c %d %s", filepath.Base(path)[:20], l.Kind, l.At.UnixMicro(), l.Text))
		}
	}
	if n := len(r.Files()); n < 3 {
		t.Fatalf("%d files; want the public connection rotated at least once, plus the business one", n)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{` s 1700000000124456 {"op":"subscribe"}`, `"n":0,`, `"n":9,`, `r 1700000002123456 {"pretty":"json"}`} {
		if !strings.Contains(all, want) {
			t.Errorf("lines lack %q:\n%s", want, all)
		}
	}
}

// TestReadsRealRecordings parses every recording in ../shared/realdata:
// the same received frames as the test helper finds, in order.
func TestReadsRealRecordings(t *testing.T) {
	dir := realdata.Dir(t)
	names, _ := filepath.Glob(filepath.Join(dir, "*.ws.*"))
	if len(names) == 0 {
		t.Fatal("no recordings")
	}
	for _, path := range names {
		lines, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := realdata.Received(t, filepath.Base(path))
		var got [][]byte
		for _, l := range lines {
			if l.Kind == 'r' {
				got = append(got, l.Text)
			}
		}
		if len(got) != len(want) || lines[0].Kind != 'c' || !bytes.Equal(got[len(got)-1], want[len(want)-1]) {
			t.Errorf("%s: %d received frames, want %d", filepath.Base(path), len(got), len(want))
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"no separator here", "x: y", "wss://a <- 12: ", "wss://a <-> nope", "-5: {}"} {
		if _, err := Parse(strings.NewReader(in)); err == nil && !strings.HasSuffix(in, ": ") {
			t.Errorf("%q parsed", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("wss://x <-> 1.5\nwss://x <- 2: {}\n3.25: {\"a\":1}\n"))
	for _, s := range realdata.Seeds("OKX.ws.1.0", 5) {
		f.Add(append([]byte("1.0: "), s...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, l := range lines {
			if l.Kind != 'c' && l.Kind != 's' && l.Kind != 'r' {
				t.Fatalf("line of kind %q", l.Kind)
			}
		}
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := New(Config{Venue: "x"}); err == nil {
		t.Error("no folder accepted")
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	if _, err := New(Config{Dir: filepath.Join(file, "sub"), Venue: "x"}); err == nil {
		t.Error("a folder under a file accepted")
	}
}
