package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestGoInstallServesThePage: `go install` of ./cmd/candlewire into a fresh
// GOBIN, static and trimmed as the README shows it, gives a binary with
// the chart page inside, which it serves with no npm (nor anything else)
// on its PATH; `version` names the commit.
func TestGoInstallServesThePage(t *testing.T) {
	t.Parallel()
	releaseBinary(t) // compiles every package with these flags first, once for both
	gobin := t.TempDir()
	_, gitErr := os.Stat("../../.git")
	vcs := "-buildvcs=auto"
	if gitErr == nil {
		vcs = "-buildvcs=true" // the commit is stamped whatever GOFLAGS says
	}
	install := exec.Command("go", "install", "-trimpath", vcs, ".")
	install.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	exe := filepath.Join(gobin, "candlewire")
	if runtime.GOOS == "linux" && !static(t, exe) {
		t.Error("the installed binary is dynamically linked")
	}
	env := []string{"PATH=" + gobin, "HOME=" + t.TempDir()}
	version := exec.Command(exe, "version")
	version.Env = env
	out, err := version.Output()
	if err != nil || !regexp.MustCompile(`^candlewire \S+ (commit [0-9a-f]{40} \([^)]+\) )?go1\.\d+`).Match(out) || gitErr == nil && !containsCommit(out) {
		t.Fatalf("version: %q, %v", out, err)
	}
	p := startExeEnv(t, exe, env, "run", "--sim", "--db", filepath.Join(t.TempDir(), "c.db"), "--listen", "127.0.0.1:0")
	defer p.stop(t)
	for path, want := range map[string]string{"/": `<script src="/app.js">`, "/app.js": "lightweight-charts"} {
		resp, err := http.Get("http://" + p.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, %d bytes, want %q in it", path, resp.StatusCode, len(body), want)
		}
	}
	if strings.Contains(p.logText(), "not built") {
		t.Errorf("the installed binary says the page is not built:\n%s", p.logText())
	}
}

// containsCommit reports whether a version line names a commit.
func containsCommit(version []byte) bool {
	return regexp.MustCompile(` commit [0-9a-f]{40} `).Match(version)
}
