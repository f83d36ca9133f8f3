package config

import (
	"strings"
	"testing"
)

func TestServeHosts(t *testing.T) {
	c, err := Parse([]byte("serve:\n  hosts: [charts.example.com, \"localhost:8080\", \"*.lan.example\", \"[::1]:8080\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Serve.Hosts, " "); got != "charts.example.com localhost:8080 *.lan.example [::1]:8080" {
		t.Fatalf("hosts %q", got)
	}
	for _, bad := range []string{`""`, "https://charts.example.com", "charts.example.com/path", `"two names"`} {
		if _, err := Parse([]byte("serve:\n  hosts: [" + bad + "]\n")); err == nil || !strings.Contains(err.Error(), "serve.hosts") {
			t.Errorf("hosts [%s]: %v, want an error naming serve.hosts", bad, err)
		}
	}
}
