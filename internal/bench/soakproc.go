package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// SoakProcess is a running `bench soak-client` process: the soak's clients
// of one transport.
type SoakProcess struct {
	Transport string
	Connected int // at the start
	cmd       *exec.Cmd
	in        io.WriteCloser
	out       *bufio.Reader
}

// StartSoakClients starts n soak clients of a transport in a child process
// (exe bench soak-client) and waits until they have connected.
func StartSoakClients(ctx context.Context, exe, base, transport string, n int, streams []string) (*SoakProcess, error) {
	cmd := exec.CommandContext(ctx, exe, "bench", "soak-client", "--url", base, "--transport", transport,
		"--clients", strconv.Itoa(n), "--streams", strings.Join(streams, ","))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s clients: %w", transport, err)
	}
	p := &SoakProcess{Transport: transport, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s clients: %w", transport, err)
	}
	p.Connected, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
	return p, nil
}

// Check asks the clients which of the expected final candles (open times
// by stream) they have received.
func (p *SoakProcess) Check(expected map[string][]int64) (SoakCheck, error) {
	b, err := json.Marshal(expected)
	if err != nil {
		return SoakCheck{}, err
	}
	if _, err := fmt.Fprintf(p.in, "check %s\n", b); err != nil {
		return SoakCheck{}, fmt.Errorf("%s clients: %w", p.Transport, err)
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return SoakCheck{}, fmt.Errorf("%s clients: %w", p.Transport, err)
	}
	var r SoakCheck
	return r, json.Unmarshal(line, &r)
}

// Stop ends the clients and waits for the process.
func (p *SoakProcess) Stop() {
	p.in.Close()
	p.cmd.Wait() //nolint:errcheck // stopping; its stderr says what went wrong
}
