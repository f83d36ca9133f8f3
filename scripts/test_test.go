package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestScriptSummary runs scripts/test's go test phases and summary
// (its gotest function and its last lines) on a module of its own with a
// failing, a broken and a passing package: every package runs, and the
// summary names the phase and the packages that failed, with exit 1.
func TestTestScriptSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three packages")
	}
	b, err := os.ReadFile("test")
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	fn := between(t, script, "gotest() {", "\n}\n")
	summary := script[strings.Index(script, `echo "== summary"`):]
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                "module example.com/m\n\ngo 1.26\n",
		"good/good_test.go":     "package good\n\nimport \"testing\"\n\nfunc TestGood(t *testing.T) {}\n",
		"bad/bad_test.go":       "package bad\n\nimport \"testing\"\n\nfunc TestBad(t *testing.T) { t.Fatal(\"no\") }\n",
		"broken/broken_test.go": "package broken\n\nfunc TestBroken(t *testing.T) {}\n", // no import: does not build
		"later/later_test.go":   "package later\n\nimport \"testing\"\n\nfunc TestLater(t *testing.T) {}\n",
		"run.sh": "set -uo pipefail\nfailed=()\n" + fn +
			"gotest \"go test -race\" -count=1 ./good ./bad ./broken\ngotest \"go test -race -p 1 (timed packages)\" -count=1 -p 1 ./later\n" + summary,
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "run.sh")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, _ := cmd.CombinedOutput()
	text := string(out)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, text)
	}
	for _, want := range []string{"ok  \texample.com/m/good", "ok  \texample.com/m/later", "== summary",
		"FAILED go test -race: example.com/m/bad example.com/m/broken \n"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "timed packages:") {
		t.Errorf("the passing phase is listed as failed:\n%s", text)
	}
}

// between returns the text of s from start through end.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	j := strings.Index(s[max(i, 0):], end)
	if i < 0 || j < 0 {
		t.Fatalf("scripts/test has no %q ... %q", start, end)
	}
	return s[i : i+j+len(end)]
}
