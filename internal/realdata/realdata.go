package realdata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Dir returns the recordings folder, or skips (fails in CI) when absent.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CANDLEWIRE_REALDATA")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "..", "shared", "realdata")
	}
	if _, err := os.Stat(dir); err != nil {
		msg := "real exchange recordings not found at " + dir + " (set CANDLEWIRE_REALDATA); decoder check against real data skipped"
		if os.Getenv("CANDLEWIRE_REQUIRE_REALDATA") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Seeds returns up to n received frames of a recording for fuzz seeds, or
// nil when the recordings are absent (fuzz targets keep their own seeds).
func Seeds(name string, n int) [][]byte {
	b, err := os.ReadFile(filepath.Join(seedDir(), name))
	if err != nil {
		return nil
	}
	out, _ := Parse(bytes.NewReader(b))
	return out[:min(n, len(out))]
}

func seedDir() string {
	if dir := os.Getenv("CANDLEWIRE_REALDATA"); dir != "" {
		return dir
	}
	return filepath.Join(repoRoot(), "..", "shared", "realdata")
}

// QuotedSeeds returns the messages of one kind (ws or rest) of
// bitmex-tradebin-quoted.jsonl for fuzz seeds, or nil when the file is
// absent.
func QuotedSeeds(kind string) [][]byte {
	b, err := os.ReadFile(filepath.Join(seedDir(), "bitmex-tradebin-quoted.jsonl"))
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var q Quoted
		if json.Unmarshal([]byte(line), &q) == nil && q.Kind == kind {
			out = append(out, []byte(q.Message))
		}
	}
	return out
}

// Received returns the received frames of a NAME.ws.N.0 recording, in order.
func Received(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatalf("open recording: %v", err)
	}
	defer f.Close()
	out, err := Parse(f)
	if err != nil {
		t.Fatalf("read recording %s: %v", name, err)
	}
	return out
}

// Parse returns the received frames of a recording in the realdata format
// (candlewire record writes it too), in order: connect lines ("URL <-> T")
// and sent lines ("URL <- T: TEXT") are left out.
func Parse(r io.Reader) ([][]byte, error) {
	var out [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, " <-> ") || strings.Contains(line, " <- ") {
			continue // connect and sent lines
		}
		if _, msg, ok := strings.Cut(line, ": "); ok {
			out = append(out, []byte(msg))
		}
	}
	return out, sc.Err()
}

// Frames returns the distinct received frames of a recording that keep
// accepts, in order of first appearance, for benchmarks that cycle every
// real frame of a kind. It fails the benchmark when none is kept.
func Frames(t testing.TB, name string, keep func([]byte) bool) [][]byte {
	t.Helper()
	out := Distinct(Received(t, name), keep)
	if len(out) == 0 {
		t.Fatalf("recording %s has no frame of the kind asked", name)
	}
	return out
}

// Distinct returns the frames keep accepts, each once, in order.
func Distinct(frames [][]byte, keep func([]byte) bool) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, f := range frames {
		if keep(f) && !seen[string(f)] {
			seen[string(f)] = true
			out = append(out, f)
		}
	}
	return out
}

// Has returns a keep function for Frames: the frame contains every one of
// parts.
func Has(parts ...string) func([]byte) bool {
	return func(f []byte) bool {
		for _, p := range parts {
			if !bytes.Contains(f, []byte(p)) {
				return false
			}
		}
		return true
	}
}

// Quoted is one row of bitmex-tradebin-quoted.jsonl.
type Quoted struct {
	Source  string `json:"source"`
	Kind    string `json:"kind"` // ws or rest
	Message string `json:"message"`
}

// QuotedBins returns the quoted BitMEX tradeBin messages.
func QuotedBins(t testing.TB) []Quoted {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), "bitmex-tradebin-quoted.jsonl"))
	if err != nil {
		t.Fatalf("read quoted bins: %v", err)
	}
	var out []Quoted
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var q Quoted
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			t.Fatalf("quoted bins: %v", err)
		}
		out = append(out, q)
	}
	return out
}

// Keys returns the sorted key paths of a JSON object ("k.t" for nested
// objects; arrays of objects contribute their elements' keys as "data[]."),
// to compare message shapes.
func Keys(raw []byte) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	set := map[string]bool{}
	walk("", v, set)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func walk(prefix string, v any, set map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			set[prefix+k] = true
			walk(prefix+k+".", child, set)
		}
	case []any:
		for _, child := range x {
			if _, ok := child.(map[string]any); ok {
				walk(strings.TrimSuffix(prefix, ".")+"[].", child, set)
			}
		}
	}
}
