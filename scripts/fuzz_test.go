package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFuzzScript runs scripts/fuzz on a module of its own with a target
// that holds, one that crashes and one whose package does not build: the
// first two are found and fuzzed, the table says what each did, the
// crashing input is left in testdata/fuzz as a seed, and the exit status
// is 1.
func TestFuzzScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and fuzzes two packages")
	}
	dir := t.TempDir()
	script, err := os.ReadFile("fuzz")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":                "module example.com/m\n\ngo 1.26\n",
		"scripts/fuzz":          string(script),
		"holds/holds_test.go":   "package holds\n\nimport \"testing\"\n\nfunc FuzzHolds(f *testing.F) {\n\tf.Add([]byte(\"a\"))\n\tf.Fuzz(func(t *testing.T, b []byte) {})\n}\n",
		"crash/crash_test.go":   "package crash\n\nimport \"testing\"\n\nfunc FuzzCrash(f *testing.F) {\n\tf.Add([]byte(\"\"))\n\tf.Fuzz(func(t *testing.T, b []byte) {\n\t\tif len(b) >= 2 {\n\t\t\tt.Fatal(\"two bytes\")\n\t\t}\n\t})\n}\n",
		"nofuzz/nofuzz_test.go": "package nofuzz\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {}\n",
		"broken/broken_test.go": "package broken\n\nimport \"testing\"\n\nfunc FuzzBroken(f *testing.F) { undefined() }\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// 20000 inputs: many times what the crash needs, a moment for the other.
	cmd := exec.Command(filepath.Join(dir, "scripts/fuzz"), "20000x")
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("scripts/fuzz with a crashing target: exit %d (%v), want 1\n%s", code, err, out)
	}
	text := string(out)
	t.Logf("scripts/fuzz 20000x:\n%s", text)
	for _, want := range []string{"fuzzing 2 targets, 20000x each", "TARGET ", "NEW INTERESTING", "RESULT"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`(?m)^FuzzCrash +\./crash +[0-9-]+ +[0-9-]+  CRASH (testdata/fuzz/FuzzCrash/\S+)$`).FindStringSubmatch(text)
	if m == nil || !regexp.MustCompile(`(?m)^FuzzHolds +\./holds +[0-9]+ +[0-9]+  ok$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^- +\./broken +- +-  ERROR \(its tests do not build\)$`).MatchString(text) {
		t.Fatalf("table rows:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(dir, "crash", m[1])); err != nil {
		t.Errorf("the crashing input is not in the package's testdata: %v", err)
	}
}

// TestFuzzReadmeExample runs the README's example, `./scripts/fuzz 5s
// ./internal/config`, on this repository: its one target is fuzzed and
// holds.
func TestFuzzReadmeExample(t *testing.T) {
	if testing.Short() {
		t.Skip("fuzzes for 5 s")
	}
	cmd := exec.Command("./scripts/fuzz", "5s", "./internal/config")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("./scripts/fuzz 5s ./internal/config: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^Fuzz\w+ +\./internal/config +[0-9]+ +[0-9]+  ok$`).Match(out) {
		t.Fatalf("no ok row for ./internal/config's target:\n%s", out)
	}
}
