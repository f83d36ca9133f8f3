package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// pipedChild is a process of this binary (`bench client`, `bench soak-client`,
// `bench floor`) that a run talks to a line at a time, over its standard
// input and output; its standard error is the run's.
type pipedChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startPiped starts exe with args and waits for its first line, "ready
// N", and returns N. what names the process in errors. On an error the
// process is ended.
func startPiped(ctx context.Context, what, exe string, args ...string) (pipedChild, int, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return pipedChild{}, 0, fmt.Errorf("start the %s: %w", what, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return pipedChild{}, 0, fmt.Errorf("start the %s: %w", what, err)
	}
	if err := cmd.Start(); err != nil {
		return pipedChild{}, 0, fmt.Errorf("start the %s: %w", what, err)
	}
	c := pipedChild{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	line, err := c.out.ReadString('\n')
	if err == nil && !strings.HasPrefix(line, "ready ") {
		err = fmt.Errorf("said %q", line)
	}
	if err != nil {
		c.kill()
		return pipedChild{}, 0, fmt.Errorf("%s: %w", what, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
	return c, n, nil
}

// close ends the process's input, which ends it, and waits for it.
func (c pipedChild) close() {
	c.in.Close()
	c.cmd.Wait() //nolint:errcheck // it has answered, or failed already; its stderr says what went wrong
}

// kill ends the process, if it has not ended, and waits for it.
func (c pipedChild) kill() {
	c.cmd.Process.Kill() //nolint:errcheck // it may have ended
	c.cmd.Wait()         //nolint:errcheck // it was killed, or ended already
}
