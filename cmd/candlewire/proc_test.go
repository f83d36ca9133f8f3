package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/bus/natstest"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"go.uber.org/goleak"
)

// childEnv makes the test binary act as the candlewire command, so the
// end-to-end tests run (and kill) the real program with the race detector.
const childEnv = "CANDLEWIRE_E2E_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if os.Getenv(seventhEnv) == "1" {
			if err := registry.Register(seventh); err != nil {
				panic(err)
			}
		}
		main()
		return
	}
	goleak.VerifyTestMain(m, append(natstest.Lingering(), goleak.Cleanup(func(code int) {
		removeRelease()
		os.Exit(code)
	}))...)
}

// proc is one running `candlewire` process.
type proc struct {
	cmd  *exec.Cmd
	addr string // its HTTP address, read from its log
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{} // closed when its stderr ends
}

var listening = regexp.MustCompile(`"?http"?[=:]"?http://([^\s"]+)`) // text or JSON logs

// start runs candlewire (this test binary acting as it) with args and
// waits until it serves HTTP.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startExe(t, os.Args[0], args...)
}

// loadBinary returns a candlewire binary for load tests: this test binary,
// unless it was built with the race detector, which slows a server under
// thousands of requests a second far below what it does in use; then the
// release build (scripts/build).
func loadBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	return releaseBinary(t)
}

// withoutRace runs the calling test in a copy of this test binary built
// without the race detector, and reports whether it did: the caller returns
// when it is true. Load tests whose server is a separate process use it for
// their many clients too: under the race detector a thousand client
// goroutines starve one another, and the test would measure its own
// instrumentation instead of the server.
func withoutRace(t *testing.T) bool {
	t.Helper()
	if !raceEnabled {
		return false
	}
	exe := filepath.Join(t.TempDir(), "candlewire.test")
	if out, err := exec.Command("go", "test", "-c", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the tests without the race detector: %v\n%s", err, out)
	}
	cmd := exec.Command(exe, "-test.run", "^"+t.Name()+"$", "-test.count", "1", "-test.v")
	out, err := cmd.CombinedOutput()
	t.Logf("%s, built without the race detector:\n%s", t.Name(), out)
	if err != nil {
		t.Fatalf("%s failed: %v", t.Name(), err)
	}
	return true
}

// startExe runs a candlewire binary with args and waits until it serves
// HTTP.
func startExe(t *testing.T, exe string, args ...string) *proc {
	t.Helper()
	return startExeEnv(t, exe, append(os.Environ(), childEnv+"=1"), args...)
}

// startExeEnv is startExe with the process's whole environment given.
func startExeEnv(t *testing.T, exe string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go p.read(stderr, addr)
	select {
	case p.addr = <-addr:
	case <-p.done:
		cmd.Wait() //nolint:errcheck // reporting its log instead
		t.Fatalf("candlewire %v exited before serving:\n%s", args, p.logText())
	case <-time.After(30 * time.Second):
		p.dump()
		p.cmd.Process.Kill() //nolint:errcheck // it may have ended on the dump
		p.cmd.Wait()         //nolint:errcheck // killed on purpose
		<-p.done
		t.Fatalf("candlewire %v did not start serving (its goroutines at the end of its log):\n%s", args, p.logText())
	}
	return p
}

// read copies the process's log until it ends, sending the HTTP address
// once it appears.
func (p *proc) read(r io.Reader, addr chan<- string) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.log.WriteString(line + "\n")
		p.mu.Unlock()
		if m := listening.FindStringSubmatch(line); m != nil {
			select {
			case addr <- m[1]:
			default:
			}
		}
	}
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// kill ends the process with SIGKILL (kill -9) and reaps it.
// dump has the process print its goroutines to its log (SIGQUIT), and
// waits a little for it to end.
func (p *proc) dump() {
	if p.cmd.Process.Signal(syscall.SIGQUIT) == nil {
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
		}
	}
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait() //nolint:errcheck // killed on purpose
	<-p.done
}

// stop ends the process with SIGTERM and requires a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("candlewire exited with %v:\n%s", err, p.logText())
	}
}

// scrape reads the process's /metrics into a map from series (name with
// its labels, as printed) to value.
func (p *proc) scrape(t *testing.T) series {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := series{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// series is one scrape of /metrics.
type series map[string]float64

// has says whether the scrape has a sample of metric name (a histogram's
// _bucket, _sum and _count are names of their own).
func (s series) has(name string) bool {
	for k := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			return true
		}
	}
	return false
}

// sum adds the series of metric name whose labels include every given
// label="value" pair.
func (s series) sum(name string, labels ...string) float64 {
	total := 0.0
	for k, v := range s {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && strings.Contains(k, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
		}
		if ok {
			total += v
		}
	}
	return total
}

// add returns s plus o, series by series (counters over two lives).
func (s series) add(o series) series {
	out := series{}
	for k, v := range s {
		out[k] += v
	}
	for k, v := range o {
		out[k] += v
	}
	return out
}
