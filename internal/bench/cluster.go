package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// ClusterOptions configure `candlewire bench cluster`.
type ClusterOptions struct {
	DB         string // postgres://, required: the cluster's shared store
	NATSServer string // the nats-server binary
	Markets    int
	Clients    int // WebSocket clients, spread over the gateways
	Collectors int
	Gateways   int
	Speed      float64
	Warmup     time.Duration // collecting before the steady phase (start-up repairs, connections)
	Steady     time.Duration // how long the steady phase samples CPU and latency
	Outage     time.Duration // how long NATS is down
	Probe      int           // streams whose latency is measured
	Single     bool          // then the single node, on the same simulator and clients
	Settle     time.Duration
}

// NodeUsage is one process's CPU and memory over the steady phase.
type NodeUsage struct {
	Name       string  `json:"name"`
	CPUPercent float64 `json:"cpu_percent_of_one_core"`
	RSSMiB     float64 `json:"rss_mib"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// A node's store queue (candle versions waiting to be written) and,
	// on the relay's holder, the relay's lag, at the end of the steady
	// phase; its mean write time over the phase.
	Queue    float64 `json:"store_queue,omitempty"`
	WriteMs  float64 `json:"store_write_mean_ms,omitempty"`
	RelayLag float64 `json:"relay_lag,omitempty"`
}

// Failover is what a collector's kill -9 cost.
type Failover struct {
	Killed      string  `json:"killed"`
	Markets     int     `json:"markets_owned"`
	OwnerMoved  float64 `json:"owner_moved_s"`            // until no market named it owner
	NextFinal   Latency `json:"next_final_ms"`            // kill → its markets' next final stored
	OthersFinal Latency `json:"others_final_after_close"` // the same minute's finals of the other markets, after the close
	NotFinal    int     `json:"not_final_in_2m"`          // markets whose bin was not final two minutes later (not timed)
}

// CatchUp is a gateway's return to the bus after a NATS outage.
type CatchUp struct {
	Gateway    string  `json:"gateway"`
	BusResumed float64 `json:"bus_resumed_s"` // from starting the servers again to the gateway's next change from the bus
	Current    float64 `json:"current_s"`     // ... to its probe holding the store's head as it was then
}

// SingleResult is the single node's figures on the same run.
type SingleResult struct {
	Usage   NodeUsage `json:"usage"`
	Latency Latency   `json:"latency"`
}

// ClusterResult is what `candlewire bench cluster` measured.
type ClusterResult struct {
	Markets    int           `json:"markets"`
	Venues     int           `json:"venues"`
	Clients    int           `json:"clients"`
	Collectors int           `json:"collectors"`
	Gateways   int           `json:"gateways"`
	Speed      float64       `json:"sim_speed"`
	Steady     float64       `json:"steady_s"`
	Outage     float64       `json:"nats_outage_s"`
	Nodes      []NodeUsage   `json:"nodes"`
	Latency    Latency       `json:"latency"` // trade to client, through the cluster
	Failover   Failover      `json:"failover"`
	NATSReady  float64       `json:"nats_ready_s"` // from starting the servers again to JetStream answering
	CatchUp    []CatchUp     `json:"catch_up"`
	Finals     Finals        `json:"finals"`
	Single     *SingleResult `json:"single,omitempty"`
}

// Print writes the result for a person.
func (r ClusterResult) Print(w io.Writer) {
	fmt.Fprintf(w, "%d markets on %d venues, %d collectors, %d gateways, %d WebSocket clients (sim speed %g)\n",
		r.Markets, r.Venues, r.Collectors, r.Gateways, r.Clients, r.Speed)
	fmt.Fprintf(w, "steady %.0f s:\n", r.Steady)
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "  %-12s cpu %5.1f%% of a core, rss %6.1f MiB (peak %.1f)", n.Name, n.CPUPercent, n.RSSMiB, n.PeakRSSMiB)
		if n.Queue > 0 || n.WriteMs > 0 || n.RelayLag > 0 {
			fmt.Fprintf(w, "; store queue %.0f, mean write %.1f ms, relay lag %.0f", n.Queue, n.WriteMs, n.RelayLag)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "trade to client through NATS: %s\n", r.Latency)
	if r.Single != nil {
		fmt.Fprintf(w, "single node, same markets and clients: cpu %.1f%% of a core, rss %.1f MiB; trade to client %s\n",
			r.Single.Usage.CPUPercent, r.Single.Usage.RSSMiB, r.Single.Latency)
	}
	f := r.Failover
	fmt.Fprintf(w, "failover: %s (owner of %d markets) killed; owner moved after %.1f s; its markets' next final %s; the other markets' finals after the close %s; %d not final 2 min later\n",
		f.Killed, f.Markets, f.OwnerMoved, f.NextFinal, f.OthersFinal, f.NotFinal)
	fmt.Fprintf(w, "NATS down %.0f s, then JetStream answering %.1f s after the servers started again\n", r.Outage, r.NATSReady)
	for _, c := range r.CatchUp {
		fmt.Fprintf(w, "  %s: its next change from the bus after %.1f s; its probe current after %.1f s\n", c.Gateway, c.BusResumed, c.Current)
	}
	fmt.Fprintf(w, "finals: %d expected per client stream, %d received, %d missing, %d duplicates\n",
		r.Finals.Expected, r.Finals.Received, r.Finals.Missing, r.Finals.Duplicates)
}

// Cluster runs the cluster bench: the simulator, NATS servers, collectors
// and gateways as processes of their own, WebSocket clients in client
// processes, a probe of a sample of streams; a steady phase, a
// collector's kill -9, a NATS outage; then, when asked, the single node
// on the same simulator.
func Cluster(ctx context.Context, o ClusterOptions, log io.Writer) (ClusterResult, error) {
	if !strings.HasPrefix(o.DB, "postgres://") && !strings.HasPrefix(o.DB, "postgresql://") {
		return ClusterResult{}, errors.New("bench cluster needs --db postgres://… (the cluster's shared store)")
	}
	dir, err := os.MkdirTemp("", "candlewire-cluster-")
	if err != nil {
		return ClusterResult{}, err
	}
	defer os.RemoveAll(dir)
	ms := Markets(o.Markets)
	simAddr, stopSim, err := StartSim(ctx, ms, o.Speed, "", log)
	if err != nil {
		return ClusterResult{}, err
	}
	defer stopSim()
	b := &clusterBench{o: o, ms: ms, dir: dir, simAddr: simAddr, log: log,
		res: ClusterResult{Markets: len(ms), Venues: len(venuesOf(ms)), Clients: o.Clients, Collectors: o.Collectors,
			Gateways: o.Gateways, Speed: o.Speed, Outage: o.Outage.Seconds()}}
	defer b.stopAll()
	if err := b.start(ctx); err != nil {
		return b.res, err
	}
	if err := b.measure(ctx); err != nil {
		return b.res, err
	}
	b.stopAll()
	if o.Single {
		if err := b.single(ctx); err != nil {
			return b.res, err
		}
	}
	return b.res, nil
}

// clusterBench is one cluster bench's processes and result.
type clusterBench struct {
	o          ClusterOptions
	ms         []market.Market
	dir        string
	simAddr    string
	log        io.Writer
	exe        string
	nats       *natsCluster
	collectors []*child
	gateways   []*child
	clients    []*SoakProcess
	probes     []*probe
	res        ClusterResult
}

func (b *clusterBench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench cluster: "+format+"\n", args...)
}

// nodeArgs are the arguments of a node of role cmd named name: every
// market, every venue at the simulator.
func (b *clusterBench) nodeArgs(cmd, name, listen string) ([]string, error) {
	cfg := filepath.Join(b.dir, "candlewire.yaml")
	if err := os.WriteFile(cfg, []byte(childConfig(b.o.Speed)), 0o600); err != nil {
		return nil, err
	}
	names := make([]string, len(b.ms))
	for i, m := range b.ms {
		names[i] = m.String()
	}
	args := []string{cmd, "--config", cfg, "--db", b.o.DB, "--listen", listen, "--markets", strings.Join(names, ","),
		"--log", "error"}
	if b.nats != nil {
		args = append(args, "--nats", b.nats.URLs(), "--node", name)
	}
	for _, v := range venuesOf(b.ms) {
		if cmd == "serve" {
			break // a gateway has no venues
		}
		d, err := registry.Lookup(v)
		if err != nil {
			return nil, err
		}
		ep := d.SimEndpoint(b.simAddr)
		args = append(args, "--ws-url", v+"="+ep.WSURL, "--rest-url", v+"="+ep.RESTURL)
	}
	return args, nil
}

// startNode starts a node and returns it once it answers.
func (b *clusterBench) startNode(ctx context.Context, cmd, name string) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args, err := b.nodeArgs(cmd, name, port)
	if err != nil {
		return nil, err
	}
	return startChild(ctx, name, "http://"+port, b.exe, args, b.log)
}

// start starts NATS, the collectors, the gateways, the clients and the
// probes, and waits until every market is owned.
func (b *clusterBench) start(ctx context.Context) error {
	var err error
	if b.exe, err = os.Executable(); err != nil {
		return err
	}
	if b.nats, err = startNATS(ctx, b.o.NATSServer, b.dir, 3, b.log); err != nil {
		return err
	}
	for i := range b.o.Collectors {
		c, err := b.startNode(ctx, "collect", fmt.Sprintf("c%d", i))
		if err != nil {
			return err
		}
		b.collectors = append(b.collectors, c)
	}
	for i := range b.o.Gateways {
		g, err := b.startNode(ctx, "serve", fmt.Sprintf("g%d", i))
		if err != nil {
			return err
		}
		b.gateways = append(b.gateways, g)
	}
	b.logf("%d collectors and %d gateways up; waiting for every market to be owned", len(b.collectors), len(b.gateways))
	if err := b.waitOwned(ctx, ""); err != nil {
		return err
	}
	return b.connect(ctx, b.gateways)
}

// connect starts the clients, spread over the nodes, and a probe on each.
func (b *clusterBench) connect(ctx context.Context, nodes []*child) error {
	streams := make([]string, len(b.ms))
	for i, m := range b.ms {
		streams[i] = market.Series{Market: m, Interval: market.I1m}.String()
	}
	for i, n := range nodes {
		k := b.o.Clients / len(nodes)
		if i == 0 {
			k += b.o.Clients % len(nodes)
		}
		p, err := StartSoakClients(ctx, b.exe, n.base, "ws", k, streams)
		if err != nil {
			return err
		}
		b.clients = append(b.clients, p)
		b.probes = append(b.probes, startProbe(n.base, b.sample(streams)))
	}
	b.logf("%d clients connected", b.o.Clients)
	return nil
}

// sample is every len/Probe-th stream, so that every venue is in it.
func (b *clusterBench) sample(streams []string) []string {
	var out []string
	step := max(1, len(streams)/max(1, b.o.Probe))
	for i := 0; i < len(streams) && len(out) < b.o.Probe; i += step {
		out = append(out, streams[i])
	}
	return out
}

// stopAll stops every process of the cluster (or of the single node).
func (b *clusterBench) stopAll() {
	for _, p := range b.probes {
		p.stop()
	}
	for _, p := range b.clients {
		p.Stop()
	}
	for _, c := range append(b.gateways, b.collectors...) {
		c.stop()
	}
	if b.nats != nil {
		b.nats.killAll()
	}
	b.probes, b.clients, b.gateways, b.collectors, b.nats = nil, nil, nil, nil, nil
}

// single runs the single node on the same simulator, markets and number
// of clients, for the steady phase, on a SQLite file of its own.
func (b *clusterBench) single(ctx context.Context) error {
	b.logf("the single node: run, the same markets and clients")
	b.o.DB = filepath.Join(b.dir, "single.db")
	clock, err := readSimClock(ctx, b.simAddr)
	if err != nil {
		return err
	}
	n, err := b.startNode(ctx, "run", "single")
	if err != nil {
		return err
	}
	b.gateways = []*child{n}
	if err := b.connect(ctx, b.gateways); err != nil {
		return err
	}
	b.logf("warming up: %s", b.o.Warmup)
	if err := upstream.Sleep(ctx, b.o.Warmup); err != nil {
		return err
	}
	from := time.Now().UnixMilli()
	nodes, err := b.steady(ctx, b.gateways)
	if err != nil {
		return err
	}
	lat, err := tradeToClient(ctx, b.simAddr, clock, [][]probeSeen{b.probes[0].snapshot()}, from, time.Now().UnixMilli())
	b.res.Single = &SingleResult{Usage: nodes[0], Latency: lat}
	return err
}

// Err is the cluster bench's verdict: an error when a client missed a
// final candle, got one twice, or none was expected.
func (r ClusterResult) Err() error {
	if f := r.Finals; f.Missing > 0 || f.Duplicates > 0 || f.Expected == 0 {
		return fmt.Errorf("bench cluster: %d of %d final deliveries missing, %d duplicated", f.Missing, f.Expected, f.Duplicates)
	}
	return nil
}
