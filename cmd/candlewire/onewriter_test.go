package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecondRunOnOneDatabaseRefuses: while one `run` writes a SQLite file,
// a second `run` on the same file exits 1 with one line saying the file is
// in use; `export` still reads it, and the first run is unaffected.
func TestSecondRunOnOneDatabaseRefuses(t *testing.T) {
	db := filepath.Join(t.TempDir(), "one.db")
	first := start(t, "run", "--sim", "--sim-speed", "60", "--db", db, "--listen", "127.0.0.1:0")
	defer first.stop(t)
	second := exec.Command(os.Args[0], "run", "--sim", "--db", db, "--listen", "127.0.0.1:0")
	second.Env = append(os.Environ(), childEnv+"=1")
	out, err := second.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second run: %v, want exit status 1; output:\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, db) || !strings.Contains(last, "in use by another candlewire process") {
		t.Fatalf("second run's last line %q; want it to name %s and say it is in use:\n%s", last, db, out)
	}
	export := exec.Command(os.Args[0], "export", "--db", db, "--interval", "1m", "--format", "csv")
	export.Env = append(os.Environ(), childEnv+"=1")
	if out, err := export.CombinedOutput(); err != nil {
		t.Fatalf("export beside the running writer: %v\n%s", err, out)
	}
}
