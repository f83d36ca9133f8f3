package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"
)

// Options describe one measured run.
type Options struct {
	Transport string
	Clients   int
	Rate      float64       // updates per second
	Duration  time.Duration // measured
	Warmup    time.Duration // publishing before the measurement
	Exe       string        // the candlewire binary, run as `bench client`
	Log       io.Writer     // progress lines; nil for none
	// HeapProfile, when set, receives a heap profile taken once every
	// client is connected and idle.
	HeapProfile string
	// CPUProfile, when set, receives the server's CPU profile over the
	// measured time.
	CPUProfile string
	// ServerCPUs and ClientCPUs pin this process (the server) and the
	// client process to CPUs; none means unpinned.
	ServerCPUs, ClientCPUs []int
	// NoFloor skips measuring the bare-write floor (the measured time is
	// then taken in one part).
	NoFloor bool
}

// Result is what one run measured.
type Result struct {
	Transport  string        `json:"transport"`
	Clients    int           `json:"clients"`
	Connected  int           `json:"connected"`
	Rate       float64       `json:"rate"`
	Duration   time.Duration `json:"duration"`
	Published  int64         `json:"published"`
	Deliveries int64         `json:"deliveries"`
	Errors     int64         `json:"client_errors"`
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	Max        time.Duration `json:"max"`
	Mean       time.Duration `json:"mean"`
	ArrivalP50 time.Duration `json:"arrival_p50,omitempty"` // to the kernel's receive time, where known
	ArrivalP99 time.Duration `json:"arrival_p99,omitempty"`
	ArrivalMax time.Duration `json:"arrival_max,omitempty"`
	// Elapsed is the measured time, the parts' ends after their last
	// update included: the time base of ServerCPU, ClientCPU and the
	// shares and rates.
	Elapsed        time.Duration `json:"elapsed"`
	ServerCPU      time.Duration `json:"server_cpu"`
	CPUPer1000     time.Duration `json:"cpu_per_1000_deliveries"`
	CPUShare       float64       `json:"server_cpu_share"` // of one core
	ClientCPU      time.Duration `json:"client_cpu"`       // the client process's, same interval
	WireBytes      int64         `json:"wire_bytes"`       // both ways, counted by the clients' sockets
	BytesPerUpdate float64       `json:"bytes_per_update"`
	Requests       int64         `json:"requests"`
	RequestsPerSec float64       `json:"requests_per_sec"`
	// IdleRSSPerConn and IdleMemPerConn (Go heap and stacks) are what
	// each idle client costs the server; 0 for polling, whose clients hold
	// nothing between requests.
	IdleRSSPerConn float64 `json:"idle_rss_bytes_per_conn,omitempty"`
	IdleMemPerConn float64 `json:"idle_go_bytes_per_conn,omitempty"`
	ServerCPUs     string  `json:"server_cpus,omitempty"` // pinned to, or "" for unpinned
	ClientCPUs     string  `json:"client_cpus,omitempty"`
	// FloorPer1000 is the CPU of 1,000 bare writes of an update's size to
	// loopback sockets nobody reads (Floor), on the server's CPUs, sampled
	// after each part of the measured time (Parts) and summed; FloorRatio
	// is CPUPer1000 over it.
	FloorPer1000 time.Duration `json:"floor_per_1000_writes,omitempty"`
	FloorSockets int           `json:"floor_sockets,omitempty"`
	FloorRatio   float64       `json:"floor_ratio,omitempty"`
	// FloorAfterPer1000 is the same floor measured once more after the
	// run, with the clients gone (as it was measured before it was
	// sampled beside the run): for comparison, not a yardstick.
	FloorAfterPer1000 time.Duration `json:"floor_after_run_per_1000_writes,omitempty"`
	// LiveFloorPer1000 is the same with readers on the clients' CPUs
	// reading each frame as it arrives (MeasureLiveFloor), measured once
	// after the run, and LiveFloorRatio CPUPer1000 over it.
	LiveFloorPer1000 time.Duration `json:"live_floor_per_1000_writes,omitempty"`
	LiveFloorRatio   float64       `json:"live_floor_ratio,omitempty"`
	// Parts are the measured time's parts, each with the floor sampled
	// after it (one part when no floor is measured).
	Parts []Part `json:"parts,omitempty"`
}

// Run serves one stream, connects the clients in a child process, and
// measures.
func Run(ctx context.Context, o Options) (Result, error) {
	if len(o.ClientCPUs) == 0 {
		o.ClientCPUs = AllowedCPUs() // not the server's, which a child would inherit
	}
	if err := Pin(o.ServerCPUs); err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp("", "candlewire-bench-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	s, err := startServer(ctx, dir)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	rss0, mem0 := idle()
	o.logf("%s: connecting %d clients", o.Transport, o.Clients)
	cl, err := startClients(ctx, o, s.url)
	if err != nil {
		return Result{}, err
	}
	defer cl.kill()
	r := Result{Transport: o.Transport, Clients: o.Clients, Rate: o.Rate, Duration: o.Duration, Connected: cl.connected}
	rss1, mem1 := idle()
	if o.HeapProfile != "" {
		if err := writeHeap(o.HeapProfile); err != nil {
			return Result{}, err
		}
	}
	if r.Connected > 0 && holdsConnections(o.Transport) {
		r.IdleRSSPerConn, r.IdleMemPerConn = float64(rss1-rss0)/float64(r.Connected), float64(mem1-mem0)/float64(r.Connected)
	}
	o.logf("%s: %d connected; publishing %g updates/s", o.Transport, r.Connected, o.Rate)
	r.ServerCPUs, r.ClientCPUs = cpuList(o.ServerCPUs), cpuList(o.ClientCPUs)
	if !o.pinned() {
		r.ServerCPUs, r.ClientCPUs = "", ""
	}
	fp := startFloorFor(ctx, o, r.Connected)
	if fp != nil {
		defer fp.close()
	}
	return r, measure(ctx, o, s, cl, fp, &r)
}

// startFloorFor starts the floor process for a run (see floorProcess),
// unless o asks for no floor; nil when it cannot: the run's figures stand
// without it.
func startFloorFor(ctx context.Context, o Options, sockets int) *floorProcess {
	if o.NoFloor || sockets == 0 {
		return nil
	}
	fp, err := startFloor(ctx, o, sockets)
	if err != nil {
		o.logf("%s: no floor: %v", o.Transport, err)
		return nil
	}
	return fp
}

// holdsConnections reports whether transport's idle clients each hold a
// connection (and memory) on the server: all but polling.
func holdsConnections(transport string) bool { return transport != "poll" }

// pinned reports whether the run pins a process (Run fills ClientCPUs in
// any case).
func (o Options) pinned() bool {
	return len(o.ServerCPUs) > 0 || !slices.Equal(o.ClientCPUs, AllowedCPUs())
}

// ratio is a over b, 0 when b is.
func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// clientProcess is the running `bench client`: "go" and "stop" on its
// stdin start and end the measurement; it answers with a ClientResult.
type clientProcess struct {
	pipedChild
	connected int
}

// startClients starts the client process and waits for its clients to be
// connected and subscribed.
func startClients(ctx context.Context, o Options, url string) (*clientProcess, error) {
	c, connected, err := startPiped(ctx, "client process", o.Exe, "bench", "client", "--url", url, "--transport", o.Transport,
		"--clients", strconv.Itoa(o.Clients), "--cpus", cpuList(o.ClientCPUs))
	if err != nil {
		return nil, err
	}
	return &clientProcess{pipedChild: c, connected: connected}, nil
}

// add takes in the clients' figures and derives the per-delivery ones.
func (r *Result) add(cr ClientResult) {
	elapsed := r.Elapsed
	r.Deliveries, r.Errors = cr.Deliveries, cr.Errors
	r.P50, r.P99, r.Max, r.Mean = us(cr.P50us), us(cr.P99us), us(cr.MaxUs), time.Duration(cr.MeanUs*1000)
	r.ArrivalP50, r.ArrivalP99, r.ArrivalMax = us(cr.ArrP50us), us(cr.ArrP99us), us(cr.ArrMaxUs)
	r.WireBytes, r.ClientCPU = cr.WireBytes, time.Duration(cr.CPUus)*time.Microsecond
	r.CPUShare = r.ServerCPU.Seconds() / elapsed.Seconds()
	r.RequestsPerSec = float64(r.Requests) / elapsed.Seconds()
	if r.Deliveries > 0 {
		r.CPUPer1000 = time.Duration(float64(r.ServerCPU) / float64(r.Deliveries) * 1000)
		r.BytesPerUpdate = float64(r.WireBytes) / float64(r.Deliveries)
	}
}

func us(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

// startCPUProfile profiles the process into path ("" for no profile) until
// the returned func is called.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// idle returns the process's RSS and Go heap-plus-stack bytes after a GC.
func idle() (rssBytes, goBytes int64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return rss(), int64(m.HeapInuse + m.StackInuse)
}
