package config

import (
	"fmt"
	"regexp"

	"github.com/candlewire/candlewire/internal/market"
)

// Cluster joins a node to a cluster on NATS JetStream (docs/cluster.md).
// Without NATS URLs the node runs alone.
type Cluster struct {
	// NATS are the servers' URLs (nats://HOST:PORT, tls://HOST:PORT).
	NATS []string `yaml:"nats"`
	// Credentials is a NATS credentials file (a user JWT and its nkey
	// seed), when the servers ask for one.
	Credentials string `yaml:"credentials"`
	// TLS is the client's TLS: a CA to trust, and a certificate and key
	// when the servers verify clients.
	TLS ClusterTLS `yaml:"tls"`
	// Node names this node among the cluster's members (default: the
	// host's name).
	Node string `yaml:"node"`
	// Replicas is how many NATS servers keep each stream and bucket
	// (default: 3, or the servers listed when fewer).
	Replicas int `yaml:"replicas"`
	// Pins limit who collects a venue's markets, or one market's, to the
	// named collectors ({binance: [c1, c2], "okx:BTC-USDT": [c3]}), while
	// any of them is up.
	Pins map[string][]string `yaml:"pins"`
}

// ClusterTLS are the files of a NATS client's TLS.
type ClusterTLS struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// On reports whether the node joins a cluster.
func (c Cluster) On() bool { return len(c.NATS) > 0 }

// nodeName is a member name: it becomes a key of the cluster's buckets.
var nodeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// venueName is a venue's name as a pin's key.
var venueName = regexp.MustCompile(`^[a-z0-9]{1,32}$`)

// Check validates the cluster section.
func (c Cluster) Check() error {
	for _, u := range c.NATS {
		if err := CheckURL(u, "nats", "tls"); err != nil {
			return fmt.Errorf("cluster.nats: %w", err)
		}
	}
	if c.Node != "" && !nodeName.MatchString(c.Node) {
		return fmt.Errorf("cluster.node: %q is not a node name (letters, digits, _ and -, at most 64)", c.Node)
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		return fmt.Errorf("cluster.replicas: %d is not 1 to 5", c.Replicas)
	}
	for k, nodes := range c.Pins {
		if _, err := market.ParseMarket(k); err != nil && !venueName.MatchString(k) {
			return fmt.Errorf("cluster.pins: %q is neither a venue nor a market", k)
		}
		for _, n := range nodes {
			if !nodeName.MatchString(n) {
				return fmt.Errorf("cluster.pins.%s: %q is not a node name", k, n)
			}
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return fmt.Errorf("cluster.tls: cert and key go together")
	}
	if !c.On() && (c.Credentials != "" || c.TLS != ClusterTLS{} || c.Node != "" || c.Replicas != 0 || len(c.Pins) > 0) {
		return fmt.Errorf("cluster: settings without cluster.nats servers to join")
	}
	return nil
}
