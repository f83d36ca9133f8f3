package node

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	rungroup "github.com/oklog/run"

	"github.com/candlewire/candlewire/internal/bitmexcompat"
	"github.com/candlewire/candlewire/internal/bus"
	"github.com/candlewire/candlewire/internal/cluster"
	"github.com/candlewire/candlewire/internal/lease"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/upstream"
)

// relayTTL is how long the relay's lease outlives its holder.
const relayTTL = 6 * time.Second

// addBus adds what carries a shared store's changes to the hub, after the
// collector (so it publishes the collector's last writes before the hub
// closes): in a cluster, a collecting node's relay candidate and a
// serving node's feed of the bus; alone, a tail of the change log.
func (n *node) addBus(ctx context.Context, g *rungroup.Group, compat *bitmexcompat.Server) error {
	lg, shared := n.st.(*postgres.Store)
	if !shared {
		return nil
	}
	head, err := lg.Head(ctx) // before anything is served
	if err != nil {
		return err
	}
	if n.bus == nil {
		if n.Role.serves() {
			add(g, bus.NewFeed(nil, lg, n.hub, head, 50*time.Millisecond, n.log.With("component", "tail")).Run) // the log alone
		}
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := bus.Stream(sctx, n.bus.JS, n.bus.Replicas); err != nil {
		return err
	}
	kv, err := lease.Bucket(sctx, n.bus.JS, cluster.LeaseBucket, relayTTL, n.bus.Replicas)
	if err != nil {
		return err
	}
	n.relay = lease.New(kv, "relay", n.bus.Node, relayTTL, n.log.With("component", "relay"))
	if n.Role.collects() {
		n.relayer = bus.NewRelay(n.bus.JS, lg, 20*time.Millisecond, n.log.With("component", "relay"))
		add(g, func(ctx context.Context) error { return n.relay.Run(ctx, n.relayer.Publish) })
		n.relayMetrics(n.relayer, n.relay, lg)
	}
	if n.Role.serves() {
		n.addFeeds(g, lg, head, compat)
	}
	if n.members == nil { // a gateway: it follows the members, to say who collects what
		if n.members, err = n.join(ctx, cluster.NewObserver); err != nil {
			return err
		}
		add(g, n.members.Run)
	}
	n.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "candlewire_nats_connected",
		Help: "1 while the node is connected to a NATS server of its cluster."}, func() float64 { return b2f(n.bus.Connected()) }))
	n.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "candlewire_postgres_connected",
		Help: "1 when the shared store answered the scrape's query (its head) within a second."},
		func() float64 { _, err := pgHead(lg); return b2f(err == nil) }))
	return nil
}

// pgHead reads the shared store's head, a second at most.
func pgHead(lg *postgres.Store) (int64, error) {
	if lg == nil {
		return 0, errors.New("no shared store")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return lg.Head(ctx)
}

// feedMetrics exports a gateway feed's counts.
func feedMetrics(reg prometheus.Registerer, st *bus.FeedStats) {
	const changes = "Changes the gateway's feed delivered to its clients, by where they came from: the bus, or the store."
	for from, v := range map[string]*atomic.Int64{"bus": &st.FromBus, "store": &st.FromLog} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "candlewire_feed_changes_total", Help: changes,
			ConstLabels: prometheus.Labels{"from": from}}, func() float64 { return float64(v.Load()) }))
	}
	counter(reg, "candlewire_feed_holes_total", "Times the bus skipped changes and the feed read them from the store.", &st.Holes)
	counter(reg, "candlewire_feed_dropped_total", "Bus messages dropped behind the feed's full queue (read from the store instead).",
		&st.Dropped)
	counter(reg, "candlewire_feed_bad_messages_total", "Bus messages that were not changes, skipped.", &st.Bad)
}

// addFeeds adds a serving node's feeds of the bus: the changes after
// head (read around the bus from the store), and the live trades for
// compat's trade table.
func (n *node) addFeeds(g *rungroup.Group, lg *postgres.Store, head int64, compat *bitmexcompat.Server) {
	f := bus.NewFeed(n.bus.JS, lg, n.hub, head, time.Second, n.log.With("component", "feed"))
	add(g, f.Run)
	feedMetrics(n.reg, f.Stats())
	tf := bus.NewTradeFeed(n.bus.NC, compat, n.log.With("component", "trades"))
	add(g, tf.Run)
	counter(n.reg, "candlewire_trades_received_total", "Live trades from the bus handed to the /realtime trade table.",
		&tf.Stats().Received)
	counter(n.reg, "candlewire_trades_bad_messages_total", "Bus messages on the trades subjects that were not trades, skipped.",
		&tf.Stats().Bad)
	counter(n.reg, "candlewire_trades_dropped_total", "Live trades the NATS client dropped behind a slow trade feed.",
		&tf.Stats().Dropped)
}

// tradePublisher publishes the live trades of the markets this collector
// owns on the bus.
func (n *node) tradePublisher() *bus.TradePublisher {
	p := bus.NewTradePublisher(n.bus.NC, func(m market.Market) bool {
		owner, _ := n.members.Owner(m)
		return owner == n.bus.Node
	}, n.log.With("component", "trades"))
	st := p.Stats()
	counter(n.reg, "candlewire_trades_published_total", "Live trades of the markets this collector owns, published on the bus.",
		&st.Published)
	counter(n.reg, "candlewire_trades_publish_failed_total", "Live trades not published: the queue was full, NATS away, or the publish refused.",
		&st.Failed)
	return p
}

// counter exports v as a counter.
func counter(reg prometheus.Registerer, name, help string, v *atomic.Int64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
		func() float64 { return float64(v.Load()) }))
}

// relayMetrics exports whether this node holds the relay's lease, and
// the relay's progress: the newest change it published and how far the
// store's head is ahead of it.
func (n *node) relayMetrics(r *bus.Relay, l *lease.Lease, lg *postgres.Store) {
	n.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "candlewire_relay_leader",
			Help: "1 while this node holds the relay's lease and publishes the change log."}, func() float64 { return b2f(l.Held()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "candlewire_relay_published_seq",
			Help: "The newest change (sequence number) this node's relay published."}, func() float64 { return float64(r.Published()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "candlewire_relay_lag",
			Help: "Sequence numbers the store's head is ahead of what this node's relay published, while it holds the lease."},
			func() float64 {
				if !l.Held() {
					return 0
				}
				head, err := pgHead(lg)
				if err != nil {
					return math.NaN()
				}
				return float64(max(0, head-r.Published()))
			}))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// join makes this collector a member of the cluster, which assigns it
// its markets (newMembership: cluster.NewMembership), or has a gateway
// follow the members (cluster.NewObserver), and exports the membership's
// figures.
func (n *node) join(ctx context.Context, newMembership func(*cluster.Conn, []market.Market, map[string][]string,
	*slog.Logger) *cluster.Membership) (*cluster.Membership, error) {
	m := newMembership(n.bus, n.Markets, n.Cluster.Pins, n.log.With("component", "members"))
	jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.Join(jctx); err != nil {
		return nil, err
	}
	gauge := func(name, help string, f func(cluster.Status) float64) {
		n.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return f(m.Status()) }))
	}
	gauge("candlewire_cluster_members", "Live, undrained collectors of the cluster, as this node sees them.",
		func(s cluster.Status) float64 { return float64(len(s.Members)) })
	gauge("candlewire_markets_owned", "Markets this collector owns: it collects them and repairs them over REST.",
		func(s cluster.Status) float64 { return float64(s.Owned) })
	gauge("candlewire_markets_standby", "Markets this collector stands by for: it collects them; their owner repairs them.",
		func(s cluster.Status) float64 { return float64(s.Standby) })
	n.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "candlewire_ownership_moves_total",
		Help: "Markets whose owner changed, as this node saw the members come and go."},
		func() float64 { return float64(m.Status().Moves) }))
	return m, nil
}

// nodeConnects keeps a cluster collector's connect attempts apart from
// the other collectors' in the shared store: each connects from its own
// address, under its own venue budget.
type nodeConnects struct {
	log  upstream.ConnectLog
	node string
}

func (c nodeConnects) Connects(ctx context.Context, venue string, since time.Time) ([]time.Time, error) {
	return c.log.Connects(ctx, venue+"@"+c.node, since)
}

func (c nodeConnects) AddConnect(ctx context.Context, venue string, at time.Time) error {
	return c.log.AddConnect(ctx, venue+"@"+c.node, at)
}

// clusterView is /v1/status's view of the cluster.
type clusterView struct{ n *node }

func (v clusterView) Owner(m market.Market) (owner, standby string) { return v.n.members.Owner(m) }

func (v clusterView) Node() any {
	st := v.n.members.Status()
	out := struct {
		Role              string   `json:"role"`
		Name              string   `json:"name"`
		Members           []string `json:"members"`
		Draining          []string `json:"draining,omitempty"`
		Owned             int      `json:"owned"`
		Standby           int      `json:"standby"`
		Moves             int64    `json:"ownership_moves"`
		NATSConnected     bool     `json:"nats_connected"`
		PostgresConnected bool     `json:"postgres_connected"`
		Relay             string   `json:"relay"`               // the relay lease's holder; "" for none (or NATS unreadable)
		RelayLag          *int64   `json:"relay_lag,omitempty"` // on the holder: changes stored, not yet published
	}{Role: v.n.Role.String(), Name: v.n.bus.Node, Members: st.Members, Draining: st.Draining, Owned: st.Owned,
		Standby: st.Standby, Moves: st.Moves, NATSConnected: v.n.bus.Connected()}
	lg, _ := v.n.st.(*postgres.Store)
	head, err := pgHead(lg)
	out.PostgresConnected = err == nil
	if v.n.relay != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		out.Relay, _ = v.n.relay.Holder(ctx) // "" when unreadable: nats_connected says why
		if v.n.relay.Held() && v.n.relayer != nil && out.PostgresConnected {
			lag := max(0, head-v.n.relayer.Published())
			out.RelayLag = &lag
		}
	}
	return out
}
