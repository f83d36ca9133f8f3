package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unitFile = "../../deploy/candlewire.service"

// TestSystemdUnitVerifies: systemd-analyze verify finds nothing to say
// about deploy/candlewire.service (an unknown key or a missing binary is
// a failure), with the release binary where the unit expects one.
func TestSystemdUnitVerifies(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	need(t, err == nil, "systemd-analyze is not installed (apt-get install systemd)")
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/candlewire ") {
		t.Fatal("the unit's ExecStart does not run /usr/local/bin/candlewire")
	}
	exe := releaseBinary(t)
	path := filepath.Join(t.TempDir(), "candlewire.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/candlewire", exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdUnitCommandRuns: the unit's ExecStart, with its files moved
// to a temporary directory (and the simulator, as there is no network),
// runs with deploy/config.yaml and logs JSON lines.
func TestSystemdUnitCommandRuns(t *testing.T) {
	t.Parallel()
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	sc := bufio.NewScanner(strings.NewReader(string(unit)))
	for sc.Scan() {
		if cmd, ok := strings.CutPrefix(sc.Text(), "ExecStart=/usr/local/bin/candlewire "); ok {
			args = strings.Fields(cmd)
		}
	}
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../deploy/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(string(cfg), "127.0.0.1:8080", "127.0.0.1:0")), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		args[i] = strings.NewReplacer("/etc/candlewire/config.yaml", cfgPath, "/var/lib/candlewire", dir).Replace(a)
	}
	if len(args) == 0 || args[0] != "run" || strings.Contains(strings.Join(args, " "), "/etc/") {
		t.Fatalf("ExecStart arguments %q", args)
	}
	p := start(t, append(args, "--sim")...)
	defer p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "candlewire.db")); err != nil {
		t.Fatalf("the store is not in the state directory: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(p.logText()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil {
			t.Errorf("log line %q is not JSON (%v)", line, err)
		}
	}
}
