package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// The floor is measured in a process of its own, `candlewire bench
// floor`, which holds its loopback sockets from the start of a run to its
// end: the server cannot (its clients' connections and the floor's take
// more descriptors than a process may hold), and the floor is sampled
// between the parts of the measured time, beside the run it is the
// yardstick of.

// floorRequest asks the floor process for one measurement.
type floorRequest struct {
	Live       bool          `json:"live,omitempty"` // readers on ReaderCPUs read each frame as it arrives
	Size       int           `json:"size"`           // of a frame, in bytes
	Duration   time.Duration `json:"duration"`       // at least, in whole rounds
	ReaderCPUs []int         `json:"reader_cpus,omitempty"`
}

// floorReply is its answer.
type floorReply struct {
	Floor Floor  `json:"floor"`
	Err   string `json:"error,omitempty"`
}

// RunFloor opens up to sockets loopback connections (as many as fit),
// writes "ready N" on out, then answers each request read from in, one
// JSON line each, until in ends or ctx does.
func RunFloor(ctx context.Context, sockets int, in io.Reader, out io.Writer) error {
	fs, err := openFloor(sockets)
	if err != nil {
		return fmt.Errorf("open %d loopback connections for the floor: %w", sockets, err)
	}
	defer fs.close()
	fmt.Fprintf(out, "ready %d\n", len(fs.servers))
	sc := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	for ctx.Err() == nil && sc.Scan() {
		var req floorRequest
		var rep floorReply
		err := json.Unmarshal(sc.Bytes(), &req)
		if err == nil {
			rep.Floor, err = fs.measure(req.Size, req.Duration, req.Live, req.ReaderCPUs)
		}
		if err != nil {
			rep.Err = err.Error()
		}
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("floor: answer: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("floor: read a request: %w", err)
	}
	return nil
}

// floorProcess is the running `bench floor`.
type floorProcess struct{ pipedChild }

// startFloor starts the floor process on the server's CPUs with up to
// sockets connections, and waits for them to be open.
func startFloor(ctx context.Context, o Options, sockets int) (*floorProcess, error) {
	c, _, err := startPiped(ctx, "floor process", o.Exe, "bench", "floor", "--sockets", strconv.Itoa(sockets), "--cpus", cpuList(o.ServerCPUs))
	if err != nil {
		return nil, err
	}
	return &floorProcess{c}, nil
}

// measure has the floor process take one measurement.
func (p *floorProcess) measure(req floorRequest) (Floor, error) {
	b, _ := json.Marshal(req)
	if _, err := fmt.Fprintf(p.in, "%s\n", b); err != nil {
		return Floor{}, fmt.Errorf("ask the floor process: %w", err)
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return Floor{}, fmt.Errorf("the floor process's answer: %w", err)
	}
	var rep floorReply
	if err := json.Unmarshal(line, &rep); err != nil {
		return Floor{}, fmt.Errorf("the floor process's answer %q: %w", line, err)
	}
	if rep.Err != "" {
		return rep.Floor, fmt.Errorf("the floor process: %s", rep.Err)
	}
	return rep.Floor, nil
}
