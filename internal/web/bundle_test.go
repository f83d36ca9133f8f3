package web

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBundleMatchesSource: the committed bundle, internal/web/dist/app.js,
// is what web/'s build makes of web/src today, byte for byte, so that `go
// install` (which runs no npm) embeds the page as the source says. It
// builds with web/'s own esbuild (scripts/test installs it with npm ci).
func TestBundleMatchesSource(t *testing.T) {
	esbuild := filepath.Join("..", "..", "web", "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		if os.Getenv("CANDLEWIRE_REQUIRE_TOOLS") != "" {
			t.Fatalf("no esbuild in web/node_modules (scripts/test runs npm ci there): %v", err)
		}
		t.Skipf("no esbuild in web/node_modules (run npm ci in web/): %v", err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "web", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Scripts map[string]string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(pkg.Scripts["build"])
	if len(args) < 2 || args[0] != "esbuild" {
		t.Fatalf("web/package.json's build script %q is not an esbuild command", pkg.Scripts["build"])
	}
	out := filepath.Join(t.TempDir(), "app.js")
	for i, a := range args {
		if strings.HasPrefix(a, "--outfile=") {
			args[i] = "--outfile=" + out
		}
	}
	cmd := exec.Command(filepath.Join("node_modules", ".bin", "esbuild"), args[1:]...)
	cmd.Dir = filepath.Join("..", "..", "web")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, msg)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("dist", "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Fatalf("internal/web/dist/app.js (%d bytes) is not what web/src builds to (%d bytes): run ./scripts/build-web and commit it", len(committed), len(built))
	}
}
