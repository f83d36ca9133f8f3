package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// floorParts is how many parts the measured time is taken in when the
// floor is measured: the floor is sampled after each, so that it is
// measured beside the run, and a machine whose speed drifts over a run
// moves both alike.
const floorParts = 4

// After a part's last update, the part goes on until the clients' count
// has stopped growing for settleStep (at least settleMin in all, at most
// settleMax): the fan-out of that update is measured with the part, and
// nothing is in flight when the floor is sampled.
const (
	settleMin  = 500 * time.Millisecond
	settleStep = 250 * time.Millisecond
	settleMax  = 10 * time.Second
)

// Part is one part of the measured time, and the floor sampled after it.
type Part struct {
	Deliveries   int64         `json:"deliveries"`
	CPUPer1000   time.Duration `json:"cpu_per_1000_deliveries"`
	FloorPer1000 time.Duration `json:"floor_per_1000_writes,omitempty"`
}

// measuring is one run's measured time, taken in parts.
type measuring struct {
	o               Options
	s               *server
	cl              *clientProcess
	fp              *floorProcess // nil: no floor
	r               *Result
	delivered, wire int64 // the clients' counts at the end of the last part
	size            int   // of a frame, as the last part with deliveries sent them
	floor           Floor // the samples, summed
}

// measure publishes at o.Rate, has the clients count for o.Duration after
// the warm-up, in parts with the floor sampled between them (fp nil: in
// one part, with no floor), and fills r with what both sides measured.
func measure(ctx context.Context, o Options, s *server, cl *clientProcess, fp *floorProcess, r *Result) error {
	m := &measuring{o: o, s: s, cl: cl, fp: fp, r: r, size: 64}
	n := 1
	if fp != nil {
		n = floorParts
	}
	stopPub := s.publishing(ctx, o.Rate)
	time.Sleep(o.Warmup)
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		stopPub() //nolint:errcheck // the profile's error is the one to report
		return err
	}
	for range n {
		if err := m.part(ctx, o.Duration/time.Duration(n), stopPub); err != nil {
			stopProfile()
			return err
		}
		stopPub = nil
	}
	stopProfile()
	return m.finish()
}

// part measures one part of d: it has the clients count, publishes
// (through stopPub's publisher, when one runs already), stops publishing
// after d and counting once the fan-out has ended, and samples the floor.
func (m *measuring) part(ctx context.Context, d time.Duration, stopPub func() (int64, error)) error {
	if err := m.cl.send("go", "going"); err != nil {
		if stopPub != nil {
			stopPub() //nolint:errcheck // the clients' error is the one to report
		}
		return err
	}
	cpu0, req0, t0 := cpu(), m.s.requests.Load(), time.Now()
	if stopPub == nil {
		stopPub = m.s.publishing(ctx, m.o.Rate)
	}
	time.Sleep(d)
	published, err := stopPub()
	m.r.Published += published
	if err == nil {
		err = m.settle()
	}
	if err != nil {
		return err
	}
	cpuUsed, reqs := cpu()-cpu0, m.s.requests.Load()-req0
	m.r.Elapsed += time.Since(t0)
	delivered, wire, err := m.cl.counts("pause", "paused")
	if err != nil {
		return err
	}
	p := Part{Deliveries: delivered - m.delivered}
	if p.Deliveries > 0 {
		p.CPUPer1000 = time.Duration(float64(cpuUsed) / float64(p.Deliveries) * 1000)
		m.size = int(max((wire-m.wire)/p.Deliveries, 64))
	}
	m.r.ServerCPU += cpuUsed
	m.r.Requests += reqs
	m.delivered, m.wire = delivered, wire
	m.r.Parts = append(m.r.Parts, p)
	m.sample(floorRequest{Size: m.size, Duration: min(time.Second, m.o.Duration/16)})
	return nil
}

// settle waits until the clients' count has stopped growing (see
// settleStep).
func (m *measuring) settle() error {
	time.Sleep(settleMin - settleStep)
	last, deadline := int64(-1), time.Now().Add(settleMax)
	for time.Now().Before(deadline) {
		time.Sleep(settleStep)
		n, _, err := m.cl.counts("count", "count")
		if err != nil || n == last {
			return err
		}
		last = n
	}
	return nil
}

// sample takes one sample of the plain floor after the last part and adds
// it to the run's. With no floor process it does nothing; when the floor
// process fails, the run has no floor (its other figures stand without
// one).
func (m *measuring) sample(req floorRequest) {
	if m.fp == nil {
		return
	}
	m.o.logf("%s: sampling the bare-write floor", m.o.Transport)
	f, err := m.fp.measure(req)
	if err != nil {
		m.o.logf("%s: no floor: %v", m.o.Transport, err)
		m.fp, m.floor = nil, Floor{}
		for i := range m.r.Parts {
			m.r.Parts[i].FloorPer1000 = 0
		}
		return
	}
	m.floor.add(f)
	m.r.Parts[len(m.r.Parts)-1].FloorPer1000 = f.Per1000()
}

// finish ends the clients, takes in their figures, and measures the
// floors of after the run.
func (m *measuring) finish() error {
	fmt.Fprintln(m.cl.in, "stop")
	var cr ClientResult
	if err := json.NewDecoder(m.cl.out).Decode(&cr); err != nil {
		return fmt.Errorf("client result: %w", err)
	}
	m.cl.cmd.Wait() //nolint:errcheck // the result is in
	r := m.r
	r.add(cr)
	if m.fp == nil || m.floor.Writes == 0 {
		return nil
	}
	r.FloorPer1000, r.FloorSockets = m.floor.Per1000(), m.floor.Sockets
	r.FloorRatio = ratio(r.CPUPer1000, r.FloorPer1000)
	m.afterRun()
	return nil
}

// afterRun measures the floor once more with the clients gone, as it was
// measured before it was sampled beside the run, and the live floor.
func (m *measuring) afterRun() {
	r := m.r
	size, d := int(max(r.BytesPerUpdate, 64)), min(2*time.Second, m.o.Duration/4)
	m.o.logf("%s: measuring the bare-write floor after the run", m.o.Transport)
	if f, err := m.fp.measure(floorRequest{Size: size, Duration: d}); err == nil {
		r.FloorAfterPer1000 = f.Per1000()
	}
	m.o.logf("%s: measuring the bare-write floor with live readers", m.o.Transport)
	f, err := m.fp.measure(floorRequest{Live: true, Size: size, Duration: d, ReaderCPUs: m.o.ClientCPUs})
	if err != nil {
		m.o.logf("%s: no live floor: %v", m.o.Transport, err)
		return
	}
	r.LiveFloorPer1000, r.LiveFloorRatio = f.Per1000(), ratio(r.CPUPer1000, f.Per1000())
}

// ask writes a command to the clients and returns their answer's line.
func (cl *clientProcess) ask(command string) (string, error) {
	fmt.Fprintln(cl.in, command)
	line, err := cl.out.ReadString('\n')
	if err != nil {
		return line, fmt.Errorf("tell the clients %q: %w", command, err)
	}
	return line, nil
}

// send writes a command to the clients and waits for its answer.
func (cl *clientProcess) send(command, answer string) error {
	line, err := cl.ask(command)
	if err == nil && line != answer+"\n" {
		err = fmt.Errorf("tell the clients %q: answered %q", command, line)
	}
	return err
}

// counts sends command (count or pause) and returns the clients' counts
// so far from its answer: updates delivered and bytes on their sockets.
func (cl *clientProcess) counts(command, answer string) (delivered, wire int64, err error) {
	line, err := cl.ask(command)
	if err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscanf(line, answer+" %d %d", &delivered, &wire); err != nil {
		return 0, 0, fmt.Errorf("the clients' counts at %q: answered %q: %w", command, line, err)
	}
	return delivered, wire, nil
}
