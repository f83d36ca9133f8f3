package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// verifyDocUnits runs `systemd-analyze verify` on the doc's collector unit
// and the gateway unit it describes (`serve`, its own --listen), their
// program and config file made real.
func verifyDocUnits(t *testing.T, doc clusterDocText) {
	sa, err := exec.LookPath("systemd-analyze")
	need(t, err == nil, "systemd-analyze is not installed (apt-get install systemd)")
	unit := doc.block(t, "the systemd unit", func(b docBlock) bool { return b.info == "ini" })
	dir := t.TempDir()
	exe, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "candlewire")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "candlewire.yaml")
	yaml := doc.block(t, "the shared YAML configuration", func(b docBlock) bool { return b.info == "yaml" })
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, role, listen string }{
		{"candlewire-collector.service", "collect", ""},
		{"candlewire-gateway.service", "serve", "0.0.0.0:8080"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			text := execStart(t, unit, bin, cfg, tc.role, tc.listen)
			verifyUnit(t, sa, filepath.Join(dir, tc.name), text)
		})
	}
}

// execStart is the unit with ExecStart running bin as the command role,
// with config cfg and, unless empty, --listen at listen.
func execStart(t *testing.T, unit, bin, cfg, role, listen string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ExecStart=(.*)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatalf("the systemd unit in %s has no ExecStart=", clusterDoc)
	}
	args := strings.Fields(m[1])
	i, j := slices.Index(args, "--config"), slices.Index(args, "--listen")
	if len(args) < 2 || args[1] != "collect" || i < 0 || i+1 >= len(args) || j < 0 || j+1 >= len(args) {
		t.Fatalf("the systemd unit in %s runs %q, not `candlewire collect --config FILE --listen ADDR`", clusterDoc, m[1])
	}
	args[0], args[1], args[i+1] = bin, role, cfg
	if listen != "" {
		args[j+1] = listen
	}
	return strings.Replace(unit, m[0], "ExecStart="+strings.Join(args, " "), 1)
}

// verifyUnit writes the unit to path and runs systemd-analyze verify on
// it: no line of its output may name the unit (the host's own units may
// be reported).
func verifyUnit(t *testing.T, sa, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, filepath.Base(path)) {
			t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Logf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
}
