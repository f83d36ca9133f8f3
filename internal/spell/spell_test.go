package spell

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"listen", "lsiten", 2}, {"markets", "markets", 0}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestNearest(t *testing.T) {
	flags := []string{"markets", "db", "listen", "rest-url", "ws-url", "speed"}
	for in, want := range map[string]string{"market": "markets", "marktes": "markets", "d": "db", "lsiten": "listen",
		"rest_url": "rest-url", "wsurl": "ws-url", "Speed": "speed", "zzz": "", "config": "", "x": ""} {
		if got := Nearest(in, flags); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
	keys := []string{"DB", "LISTEN", "LOG", "LOG_FORMAT", "SERVE_MAX_CONNS_PER_IP"}
	for in, want := range map[string]string{"LISTN": "LISTEN", "LOGFORMAT": "LOG_FORMAT", "SERVE_MAX_CONN_PER_IP": "SERVE_MAX_CONNS_PER_IP",
		"TEST_POSTGRES": "", "REALDATA": "", "E2E_CHILD": "", "ARTIFACTS": "", "BENCH_ROWS": ""} {
		if got := Nearest(in, keys); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}
