// Package natstest runs real NATS JetStream servers in a test's process:
// one, or a cluster of several on loopback, each of which can be stopped
// and started again on its data directory.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"
)

// Cluster is n JetStream servers, routed to each other when n > 1.
type Cluster struct {
	t     testing.TB
	opts  []*server.Options
	nodes []*server.Server
}

// Start runs n servers until the test ends, and waits until JetStream
// has a leader.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, nodes: make([]*server.Server, n)}
	client, route := ports(t, n), ports(t, n)
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", route[i])})
	}
	dir := t.TempDir()
	for i := range n {
		o := &server.Options{ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: client[i], JetStream: true,
			StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", i)), NoLog: true, NoSigs: true}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "cw", Host: "127.0.0.1", Port: route[i]}
			o.Routes = routes
		}
		c.opts = append(c.opts, o)
	}
	for i := range n {
		c.Start(i)
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.Stop(i)
		}
	})
	c.waitLeader()
	return c
}

// URLs are the servers' client URLs, comma-separated (as nats.Connect
// takes them).
func (c *Cluster) URLs() string {
	var out []string
	for _, o := range c.opts {
		out = append(out, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(out, ",")
}

// Stop shuts server i down (its data stays).
func (c *Cluster) Stop(i int) {
	if s := c.nodes[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.nodes[i] = nil
	}
}

// Start starts server i again on its port and data directory.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatalf("nats server %d: %v", i, err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		c.t.Fatalf("nats server %d not ready", i)
	}
	c.nodes[i] = s
}

// Restart stops every server, starts them again, and waits until
// JetStream has a leader.
func (c *Cluster) Restart() {
	c.t.Helper()
	for i := range c.nodes {
		c.Stop(i)
	}
	for i := range c.nodes {
		c.Start(i)
	}
	c.waitLeader()
}

// waitLeader waits until some server leads the JetStream cluster.
func (c *Cluster) waitLeader() {
	c.t.Helper()
	if len(c.nodes) == 1 {
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.nodes {
			if s != nil && s.JetStreamIsLeader() {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("no JetStream leader within 60 s")
}

// ports are n free TCP ports on loopback.
func ports(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// Lingering are goleak options for what an embedded NATS server leaves
// running after its Shutdown returns: its clock for access times (a
// process-wide ticker it keeps while any server runs, and stops a moment
// after the last) and a file store's last state flush. The tests' own
// goroutines are still checked.
func Lingering() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server/ats.Register.func1"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*fileStore).flushStreamStateLoop"),
	}
}
