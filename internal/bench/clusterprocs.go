package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// child is a process of a cluster bench: a node, or a NATS server.
type child struct {
	name string
	base string // http://ADDR of a node; "" for a NATS server
	cmd  *exec.Cmd
	done chan struct{}
}

// startChild starts exe with args; a node (base set) is waited for until
// its /v1/status answers, a minute at most.
func startChild(ctx context.Context, name, base, exe string, args []string, stderr io.Writer) (*child, error) {
	cmd := exec.Command(exe, args...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, base: base, cmd: cmd, done: make(chan struct{})}
	go func() { defer close(c.done); cmd.Wait() }() //nolint:errcheck // its stderr says why
	if base == "" {
		return c, nil
	}
	for deadline := time.Now().Add(time.Minute); ; {
		var st struct{}
		if err := getJSON(ctx, base+"/v1/status", &st); err == nil {
			return c, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s exited at start", name)
		case <-ctx.Done():
			c.kill()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.kill()
			return nil, fmt.Errorf("%s did not answer on %s within a minute", name, base)
		}
	}
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop interrupts the process and kills it if it has not ended in 30 s.
func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck // it may have ended
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.kill()
	}
}

// kill ends the process with SIGKILL and waits for it.
func (c *child) kill() {
	c.cmd.Process.Kill() //nolint:errcheck // it may have ended
	<-c.done
}

// usage is a process's CPU time and memory, read from /proc.
type usage struct {
	cpu       float64 // seconds, user and system
	rss, peak float64 // MiB: resident now, and at most (VmHWM)
}

// procUsage reads /proc/PID/stat and /proc/PID/status (Linux).
func procUsage(pid int) (usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, fmt.Errorf("read the usage of process %d: %w", pid, err)
	}
	// The fields after the command's name, which is in parentheses.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return usage{}, fmt.Errorf("process %d's stat has %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	u := usage{cpu: (ut + st) / 100} // USER_HZ is 100 on Linux
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			u.rss = kb / 1024
		case "VmHWM":
			u.peak = kb / 1024
		}
	}
	return u, sc.Err()
}

// natsCluster is three (or more) nats-server processes with JetStream,
// routed to each other on loopback, each on its own data directory, so
// that the bench can kill and restart them.
type natsCluster struct {
	bin     string
	dir     string
	clients []string // client ports' addresses
	routes  []string
	procs   []*child
	stderr  io.Writer
}

// NATSServer finds the nats-server binary: path when set, else on PATH,
// else where `go install` puts it ($GOBIN, or bin in each $GOPATH entry,
// or ~/go/bin).
func NATSServer(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	dirs := []string{os.Getenv("GOBIN")}
	for _, d := range filepath.SplitList(os.Getenv("GOPATH")) {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "nats-server")
		if fi, err := os.Stat(p); d != "" && err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("nats-server not found: install it with `go install github.com/nats-io/nats-server/v2@v2.15.2`, or give --nats-server")
}

// startNATS starts n servers and waits until JetStream answers.
func startNATS(ctx context.Context, bin, dir string, n int, stderr io.Writer) (*natsCluster, error) {
	c := &natsCluster{bin: bin, dir: dir, stderr: stderr}
	for range n {
		a, err1 := freePort()
		b, err2 := freePort()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		c.clients, c.routes = append(c.clients, a), append(c.routes, "nats://"+b)
	}
	if err := c.startAll(ctx); err != nil {
		c.killAll()
		return nil, err
	}
	return c, nil
}

// URLs are the servers' client URLs, comma-separated.
func (c *natsCluster) URLs() string {
	urls := make([]string, len(c.clients))
	for i, a := range c.clients {
		urls[i] = "nats://" + a
	}
	return strings.Join(urls, ",")
}

// startAll starts every server on its data directory and waits (a minute
// at most) until JetStream has a leader.
func (c *natsCluster) startAll(ctx context.Context) error {
	c.procs = c.procs[:0]
	for i := range c.clients {
		p, err := c.start(ctx, i)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, p)
	}
	return c.ready(ctx)
}

// start starts server i on its data directory.
func (c *natsCluster) start(ctx context.Context, i int) (*child, error) {
	conf := filepath.Join(c.dir, fmt.Sprintf("nats-%d.conf", i))
	text := fmt.Sprintf("server_name: n%d\nlisten: %s\njetstream { store_dir: %q }\n"+
		"cluster { name: bench, listen: %s, routes: [%s] }\n",
		i, c.clients[i], filepath.Join(c.dir, fmt.Sprintf("js-%d", i)), strings.TrimPrefix(c.routes[i], "nats://"),
		strings.Join(c.routes, ", "))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	// Its log goes to a file beside its data: a server's chatter is not
	// the bench's.
	return startChild(ctx, fmt.Sprintf("nats-%d", i), "", c.bin, []string{"-c", conf, "-l", c.logPath(i)}, c.stderr)
}

func (c *natsCluster) logPath(i int) string {
	return filepath.Join(c.dir, fmt.Sprintf("nats-%d.log", i))
}

// ready waits, a minute at most, until JetStream answers. A server that
// exits meanwhile (its port taken, between our choosing it and its
// listening, by a connection of another process) is started again.
func (c *natsCluster) ready(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	restarts := 0
	for {
		err := c.jetStreamAnswers(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("NATS JetStream on %s not ready within a minute: %w%s", c.URLs(), err, c.logTails())
		}
		for i, p := range c.procs {
			if p.exited() && restarts < maxRestarts {
				restarts++
				fmt.Fprintf(c.stderr, "nats-%d exited; starting it again%s\n", i, c.logTails())
				if c.procs[i], err = c.start(ctx, i); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// maxRestarts bounds the servers ready starts again: a server that keeps
// exiting has a reason its log tells.
const maxRestarts = 5

// logTails is the last lines of each server's log, to say why it is not
// ready.
func (c *natsCluster) logTails() string {
	var b strings.Builder
	for i := range c.clients {
		data, err := os.ReadFile(c.logPath(i))
		if err != nil {
			fmt.Fprintf(&b, "\nnats-%d: no log: %v", i, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		for _, l := range lines[max(0, len(lines)-6):] {
			fmt.Fprintf(&b, "\nnats-%d: %s", i, l)
		}
	}
	return b.String()
}

func (c *natsCluster) jetStreamAnswers(ctx context.Context) error {
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(actx)
	return err
}

// killAll ends every server with SIGKILL.
func (c *natsCluster) killAll() {
	for _, p := range c.procs {
		p.kill()
	}
}
