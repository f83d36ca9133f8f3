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

// quiet is how long a part goes on after its last update: the fan-out of
// that update is measured with it, and nothing is in flight between parts.
const quiet = 500 * time.Millisecond

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
	elapsed         time.Duration // of the parts, summed
	delivered, wire int64         // the clients' counts at the end of the last part
	floor           Floor         // the samples, summed
}

// measure publishes at o.Rate, has the clients count for o.Duration after
// the warm-up, in parts with the floor sampled between them (fp nil: in
// one part, with no floor), and fills r with what both sides measured.
func measure(ctx context.Context, o Options, s *server, cl *clientProcess, fp *floorProcess, r *Result) error {
	m := &measuring{o: o, s: s, cl: cl, fp: fp, r: r}
	n := 1
	if fp != nil {
		n = floorParts
	}
	stopPub := s.publishing(ctx, o.Rate)
	time.Sleep(o.Warmup)
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		stopPub()
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

// part measures one part of d: it tells the clients to count, publishes
// (through stopPub's publisher, when one runs already), stops publishing
// after d and counting after quiet, and samples the floor.
func (m *measuring) part(ctx context.Context, d time.Duration, stopPub func() int64) error {
	fmt.Fprintln(m.cl.in, "go")
	cpu0, req0, t0 := cpu(), m.s.requests.Load(), time.Now()
	if stopPub == nil {
		stopPub = m.s.publishing(ctx, m.o.Rate)
	}
	time.Sleep(d)
	m.r.Published += stopPub()
	time.Sleep(quiet)
	cpuUsed, reqs := cpu()-cpu0, m.s.requests.Load()-req0
	m.elapsed += time.Since(t0)
	delivered, wire, err := m.cl.pause()
	if err != nil {
		return err
	}
	p := Part{Deliveries: delivered - m.delivered}
	if p.Deliveries > 0 {
		p.CPUPer1000 = time.Duration(float64(cpuUsed) / float64(p.Deliveries) * 1000)
	}
	m.r.ServerCPU += cpuUsed
	m.r.Requests += reqs
	size := int(max((wire-m.wire)/max(p.Deliveries, 1), 64))
	m.delivered, m.wire = delivered, wire
	p.FloorPer1000 = m.sample(floorRequest{Size: size, Duration: min(time.Second, m.o.Duration/16)})
	m.r.Parts = append(m.r.Parts, p)
	return nil
}

// sample takes one sample of the plain floor and adds it to the run's;
// with no floor process, or when it fails (the run's figures stand without
// a floor), it returns 0.
func (m *measuring) sample(req floorRequest) time.Duration {
	if m.fp == nil {
		return 0
	}
	m.o.logf("%s: sampling the bare-write floor", m.o.Transport)
	f, err := m.fp.measure(req)
	if err != nil {
		m.o.logf("%s: no floor: %v", m.o.Transport, err)
		m.fp, m.floor = nil, Floor{}
		return 0
	}
	m.floor.Sockets = f.Sockets
	m.floor.Writes += f.Writes
	m.floor.CPU += f.CPU
	m.floor.Wall += f.Wall
	return f.Per1000()
}

// finish ends the clients, takes in their figures, and measures the live
// floor.
func (m *measuring) finish() error {
	fmt.Fprintln(m.cl.in, "stop")
	var cr ClientResult
	if err := json.NewDecoder(m.cl.out).Decode(&cr); err != nil {
		return fmt.Errorf("client result: %w", err)
	}
	m.cl.cmd.Wait() //nolint:errcheck // the result is in
	r := m.r
	r.add(cr, m.elapsed)
	if m.fp == nil || m.floor.Writes == 0 {
		return nil
	}
	r.FloorPer1000, r.FloorSockets = m.floor.Per1000(), m.floor.Sockets
	r.FloorRatio = ratio(r.CPUPer1000, r.FloorPer1000)
	size, d := int(max(r.BytesPerUpdate, 64)), min(2*time.Second, m.o.Duration/4)
	m.o.logf("%s: measuring the bare-write floor after the run", m.o.Transport)
	if f, err := m.fp.measure(floorRequest{Size: size, Duration: d}); err == nil {
		r.FloorAfterPer1000 = f.Per1000()
	}
	m.o.logf("%s: measuring the bare-write floor with live readers", m.o.Transport)
	f, err := m.fp.measure(floorRequest{Live: true, Size: size, Duration: d, ReaderCPUs: m.o.ClientCPUs})
	if err != nil {
		m.o.logf("%s: no live floor: %v", m.o.Transport, err)
		return nil
	}
	r.LiveFloorPer1000, r.LiveFloorRatio = f.Per1000(), ratio(r.CPUPer1000, f.Per1000())
	return nil
}

// pause stops the clients counting and returns their counts so far:
// updates delivered and bytes on their sockets.
func (cl *clientProcess) pause() (delivered, wire int64, err error) {
	fmt.Fprintln(cl.in, "pause")
	line, err := cl.out.ReadString('\n')
	if err == nil {
		_, err = fmt.Sscanf(line, "paused %d %d", &delivered, &wire)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("the clients' counts: %q: %w", line, err)
	}
	return delivered, wire, nil
}
