package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// SoakProcess is a running `bench soak-client` process: the soak's clients
// of one transport.
type SoakProcess struct {
	Transport string
	Connected int // at the start
	pipedChild
}

// StartSoakClients starts n soak clients of a transport in a child process
// (exe bench soak-client) and waits until they have connected.
func StartSoakClients(ctx context.Context, exe, base, transport string, n int, streams []string) (*SoakProcess, error) {
	c, connected, err := startPiped(ctx, transport+" clients", exe, "bench", "soak-client", "--url", base, "--transport", transport,
		"--clients", strconv.Itoa(n), "--streams", strings.Join(streams, ","))
	if err != nil {
		return nil, err
	}
	return &SoakProcess{Transport: transport, Connected: connected, pipedChild: c}, nil
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
func (p *SoakProcess) Stop() { p.close() }
