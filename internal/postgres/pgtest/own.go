package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// bin holds Debian's postgresql-15 programs.
const bin = "/usr/lib/postgresql/15/bin"

// Own is a PostgreSQL server of one test's own, which the test may stop
// and start again on the same data (the shared server must keep running
// for the others).
type Own struct {
	DSN  string
	dir  string
	port int
	t    testing.TB
}

// StartOwn initialises and starts a server in a fresh directory; it stops
// and is removed when the test ends. Without postgresql-15 installed it
// skips (fails under CANDLEWIRE_REQUIRE_POSTGRES).
func StartOwn(t testing.TB) *Own {
	t.Helper()
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		msg := "postgresql-15 is not installed (apt-get install postgresql-15; scripts/test installs it)"
		if os.Getenv("CANDLEWIRE_REQUIRE_POSTGRES") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "candlewire-pg-")
	if err != nil {
		t.Fatal(err)
	}
	o := &Own{dir: filepath.Join(dir, "data"), port: freePort(t), t: t}
	t.Cleanup(func() { o.pgctl("stop", "-m", "immediate"); os.RemoveAll(dir) }) //nolint:errcheck // may be stopped already
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(o.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	o.chown(o.dir)
	if out, err := o.as(filepath.Join(bin, "initdb"), "-D", o.dir, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	o.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", o.port)
	o.Start()
	return o
}

// Start starts the server (again) and waits until it takes connections.
func (o *Own) Start() {
	o.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off", o.port, o.dir)
	if err := o.pgctl("start", "-w", "-l", filepath.Join(o.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(o.dir, "server.log"))
		o.t.Fatalf("start PostgreSQL: %v\n%s", err, log)
	}
}

// Stop stops the server at once, as a crash or a restart would: open
// connections are cut.
func (o *Own) Stop() {
	o.t.Helper()
	if err := o.pgctl("stop", "-w", "-m", "immediate"); err != nil {
		o.t.Fatalf("stop PostgreSQL: %v", err)
	}
}

func (o *Own) pgctl(args ...string) error {
	args = append([]string{"-D", o.dir}, args...)
	if out, err := o.as(filepath.Join(bin, "pg_ctl"), args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %v: %w\n%s", args, err, out)
	}
	return nil
}

// as runs a PostgreSQL program as the postgres user when this is root
// (initdb and the server refuse root).
func (o *Own) as(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// chown gives dir to the postgres user when this is root.
func (o *Own) chown(dir string) {
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		o.t.Fatalf("postgres user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		o.t.Fatal(err)
	}
}

// freePort is a loopback TCP port nothing listens on now.
func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
