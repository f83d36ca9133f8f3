package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// release is the one scripts/build the tests make, shared: the load tests
// run it, and `go install` with the same flags then finds every package
// compiled.
var release struct {
	once sync.Once
	dir  string
	exe  string
	out  []byte
	err  error
}

// releaseBinary runs scripts/build once (into a directory of its own) and
// returns the binary.
func releaseBinary(t *testing.T) string {
	t.Helper()
	release.once.Do(func() {
		if release.dir, release.err = os.MkdirTemp("", "candlewire-release-"); release.err != nil {
			return
		}
		cmd := exec.Command("../../scripts/build")
		cmd.Env = append(os.Environ(), "DIST="+release.dir)
		release.out, release.err = cmd.CombinedOutput()
		release.exe = filepath.Join(release.dir, "candlewire")
	})
	if release.err != nil {
		t.Fatalf("scripts/build: %v\n%s", release.err, release.out)
	}
	return release.exe
}

// removeRelease deletes the release build, after the tests.
func removeRelease() {
	if release.dir != "" {
		os.RemoveAll(release.dir)
	}
}

// static reports whether the executable at path is linked statically (an
// ELF file with no interpreter).
func static(t *testing.T, path string) bool {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// TestBuildScript: scripts/build makes a static binary that names its
// commit, and refuses a platform it cannot read.
func TestBuildScript(t *testing.T) {
	t.Parallel()
	exe := releaseBinary(t)
	if runtime.GOOS == "linux" && !static(t, exe) {
		t.Error("scripts/build made a dynamically linked binary")
	}
	out, err := exec.Command(exe, "version").Output()
	if _, gitErr := os.Stat("../../.git"); err != nil || gitErr == nil && !containsCommit(out) {
		t.Errorf("version: %q, %v", out, err)
	}
	bad := exec.Command("../../scripts/build", "linux-arm64")
	bad.Env = append(os.Environ(), "DIST="+t.TempDir())
	if out, err := bad.CombinedOutput(); bad.ProcessState.ExitCode() != 2 || err == nil {
		t.Errorf("scripts/build linux-arm64: %v, %s; want exit 2", err, out)
	}
}
