package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// docEnv is where TestDocCommands runs the pages' commands: a reader's
// directory, with `candlewire` on the PATH (this test binary acting as
// it) and ./scripts beside.
type docEnv struct {
	root, dir, bin string
	once           sync.Once
	server         *proc // a `run --sim` for the pages' curl commands
	replay         *docProc
	pg             bool // ./scripts/postgres start ran
}

func newDocEnv(t *testing.T) *docEnv {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// Under /tmp and open to all: as root, scripts/postgres runs the
	// server as the postgres user, who must reach ./pgdata.
	dir, err := os.MkdirTemp("/tmp", "candlewire-docs-")
	if err != nil {
		t.Fatal(err)
	}
	e := &docEnv{root: root, dir: dir, bin: filepath.Join(dir, ".bin")}
	t.Cleanup(func() { e.close(t) })
	wrapper := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", childEnv, os.Args[0])
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(e.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.bin, "candlewire"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "scripts"), filepath.Join(dir, "scripts")); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *docEnv) close(t *testing.T) {
	if e.server != nil {
		e.server.stop(t)
	}
	if e.replay != nil {
		e.replay.interrupt(t)
	}
	if e.pg {
		exec.Command(filepath.Join(e.root, "scripts/postgres"), "stop", filepath.Join(e.dir, "pgdata")).Run() //nolint:errcheck // it may be stopped
	}
	os.RemoveAll(e.dir)
}

// shell is cmd as a bash command line run in dir: `go run
// ./cmd/candlewire` is the `candlewire` on the PATH, and a command that
// listens on the default address takes a free one (CANDLEWIRE_LISTEN).
func (e *docEnv) shell(ctx context.Context, dir, cmd string) *exec.Cmd {
	cmd = strings.ReplaceAll(strings.TrimPrefix(cmd, "$ "), "go run ./cmd/candlewire ", "candlewire ")
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Dir = dir
	c.Env = append(os.Environ(), "PATH="+e.bin+":"+os.Getenv("PATH"), "CANDLEWIRE_LISTEN=127.0.0.1:0")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 10 * time.Second
	return c
}

// run runs cmd in the reader's directory to its end (within two minutes)
// and returns its output (stdout and stderr) and exit status.
func (e *docEnv) run(t *testing.T, cmd string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := e.shell(ctx, e.dir, cmd).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("`%s` did not end in 2 minutes:\n%s", cmd, out)
	}
	code := 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// docProc is a command of the pages that runs until it is stopped.
type docProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *docProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *docProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start starts cmd in dir (its own process group).
func (e *docEnv) start(t *testing.T, dir, cmd string) *docProc {
	t.Helper()
	p := &docProc{cmd: e.shell(context.Background(), dir, cmd), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }() //nolint:errcheck // the output tells
	return p
}

// wait waits (up to within) until ok holds of the output.
func (p *docProc) wait(t *testing.T, what string, within time.Duration, ok func(out string) bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(p.output()); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.interrupt(t)
			t.Fatalf("%s: not within %s; output:\n%s", what, within, tail(p.output()))
		}
	}
}

// interrupt sends Ctrl-C to the command's group, waits for its end (or
// kills it after 20 s) and returns its output.
func (p *docProc) interrupt(t *testing.T) string {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT) //nolint:errcheck // it may have ended
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // it may have ended
		<-p.done
		t.Errorf("`%s` did not stop on Ctrl-C", strings.Join(p.cmd.Args, " "))
	}
	return p.output()
}

// tail is the end of a long output.
func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// portFree says whether nothing listens on addr.
func portFree(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}
