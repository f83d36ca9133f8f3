package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/candlewire/candlewire/internal/market"
)

// Buckets of the cluster's coordination.
const (
	MembersBucket = "candlewire_members" // collectors' heartbeats
	DrainBucket   = "candlewire_drain"   // nodes drained by `candlewire cluster drain`
	LeaseBucket   = "candlewire_leases"  // the relay's lease
)

// Heartbeats: a member puts itself every Beat; the members bucket keeps
// an entry MemberTTL, so one not heard for that long is gone.
const (
	Beat      = 2 * time.Second
	MemberTTL = 3 * Beat
)

// Member is what a collector says of itself in the members bucket.
type Member struct {
	Node    string    `json:"node"`
	Started time.Time `json:"started"`
	Markets int       `json:"markets"` // configured
	Owned   int       `json:"owned"`
	Standby int       `json:"standby"`
}

// Membership keeps a collector in the members bucket, reads the live,
// undrained collectors every Beat and assigns the markets among them
// (Assign). It is the collector's collector.Assigner. (It reads the
// buckets rather than watching them: following a watch, a gateway forgot
// every collector after the whole NATS cluster restarted, in
// TestClusterCollectorsAndGateway; a read every beat keeps no state to
// lose.)
type Membership struct {
	conn    *Conn
	markets []market.Market
	pins    map[string][]string
	log     *slog.Logger
	started time.Time
	member  bool // a collector: it heartbeats and is assigned markets; else it only follows (a gateway)

	mu       sync.Mutex
	heard    map[string]bool // live members: in the bucket at the last beat
	draining map[string]bool
	assign   Assignment
	changed  chan struct{}
	moves    atomic.Int64 // markets whose owner changed
}

// NewMembership returns the membership of this node (conn.Node), which
// collects markets, with pins (config.Cluster's).
func NewMembership(conn *Conn, markets []market.Market, pins map[string][]string, log *slog.Logger) *Membership {
	m := &Membership{conn: conn, markets: markets, pins: pins, log: log, started: time.Now(), member: true,
		heard: map[string]bool{conn.Node: true}, draining: map[string]bool{}, changed: make(chan struct{})}
	m.assign = Assign(markets, []string{conn.Node}, pins)
	return m
}

// NewObserver returns a membership that follows the collectors without
// being one (a gateway), to say who collects each market.
func NewObserver(conn *Conn, markets []market.Market, pins map[string][]string, log *slog.Logger) *Membership {
	return &Membership{conn: conn, markets: markets, pins: pins, log: log, started: time.Now(),
		heard: map[string]bool{}, draining: map[string]bool{}, changed: make(chan struct{}), assign: Assignment{}}
}

// Owner returns who owns and who stands by for m ("" for none known).
func (m *Membership) Owner(mk market.Market) (owner, standby string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.assign[mk]
	return p.Owner, p.Standby
}

// Markets implements collector.Assigner.
func (m *Membership) Markets(venue string) (collect, own []market.Market) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ms []market.Market
	for _, mk := range m.markets {
		if mk.Venue == venue {
			ms = append(ms, mk)
		}
	}
	return m.assign.Of(m.conn.Node, ms)
}

// Changed implements collector.Assigner.
func (m *Membership) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Status is the membership as this node sees it.
type Status struct {
	Members  []string // live and undrained, sorted
	Draining []string
	Owned    int
	Standby  int
	Moves    int64 // markets whose owner changed since start
}

// Status reads the membership.
func (m *Membership) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Members: m.live(), Draining: slices.Sorted(maps.Keys(m.draining)), Moves: m.moves.Load()}
	st.Owned, st.Standby = m.assign.Count(m.conn.Node)
	return st
}

// Join puts this member and reads who else is a member and who is
// drained, so that the first assignment the collector sees is the
// cluster's, not this node's alone. A beat that fails (each has Beat, and
// JetStream can take longer while it elects leaders on a loaded machine)
// is tried again until ctx ends.
func (m *Membership) Join(ctx context.Context) error {
	members, drain, err := Buckets(ctx, m.conn)
	if err != nil {
		return err
	}
	return m.firstBeat(ctx, members, drain)
}

// firstBeat beats until one succeeds or ctx ends.
func (m *Membership) firstBeat(ctx context.Context, members, drain jetstream.KeyValue) error {
	for {
		err := m.beat(ctx, members, drain)
		if err == nil || ctx.Err() != nil {
			return err
		}
		m.log.Debug("joining the members: trying again", "err", err)
		sleep(ctx, 250*time.Millisecond)
	}
}

// Run heartbeats and reads the members every Beat until ctx ends, then
// leaves the members at once (its markets move without waiting for the
// TTL).
func (m *Membership) Run(ctx context.Context) error {
	t := time.NewTicker(Beat)
	defer t.Stop()
	var members, drain jetstream.KeyValue
	for {
		select {
		case <-ctx.Done():
			m.leave(members)
			return nil
		case <-t.C:
		}
		var err error
		if members == nil {
			members, drain, err = Buckets(ctx, m.conn)
		}
		if err == nil {
			err = m.beat(ctx, members, drain)
		}
		if err != nil && ctx.Err() == nil {
			m.log.Debug("heartbeat failed; the assignment stays as it is", "err", err)
		}
	}
}

// leave deletes this member's entry, when it is one.
func (m *Membership) leave(members jetstream.KeyValue) {
	if !m.member || members == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	members.Delete(ctx, m.conn.Node) //nolint:errcheck // it expires anyway
}

// beat puts this member (a collector), then reads the members (the
// bucket's entries live MemberTTL unless put again) and the drained
// nodes, and reassigns. When NATS cannot be read, nothing changes: the
// collectors keep collecting what they collect.
func (m *Membership) beat(ctx context.Context, members, drain jetstream.KeyValue) error {
	bctx, cancel := context.WithTimeout(ctx, Beat)
	defer cancel()
	if m.member {
		m.mu.Lock()
		owned, standby := m.assign.Count(m.conn.Node)
		m.mu.Unlock()
		b, _ := json.Marshal(Member{Node: m.conn.Node, Started: m.started, Markets: len(m.markets), Owned: owned, //nolint:errchkjson // plain fields
			Standby: standby})
		if _, err := members.Put(bctx, m.conn.Node, b); err != nil {
			return fmt.Errorf("put this member: %w", err)
		}
	}
	live, err := keys(bctx, members)
	if err != nil {
		return err
	}
	drained, err := keys(bctx, drain)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.heard, m.draining = live, drained
	if m.member {
		m.heard[m.conn.Node] = true // the put may not be listed yet
	}
	m.reassign()
	return nil
}

// keys lists a bucket's keys, giving up when ctx ends (a listing whose
// consumer stalls, as one did while the whole NATS cluster restarted,
// would otherwise never end, and the membership with it).
func keys(ctx context.Context, kv jetstream.KeyValue) (map[string]bool, error) {
	l, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the %s bucket: %w", kv.Bucket(), err)
	}
	defer l.Stop() //nolint:errcheck // done with it either way
	out := map[string]bool{}
	for {
		select {
		case k, ok := <-l.Keys():
			if !ok {
				return out, nil
			}
			out[k] = true
		case <-ctx.Done():
			return nil, fmt.Errorf("list the %s bucket: %w", kv.Bucket(), ctx.Err())
		}
	}
}

// live are the members heard and not drained, sorted.
func (m *Membership) live() []string {
	var out []string
	for n := range m.heard {
		if !m.draining[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// reassign assigns the markets among the live members, and tells the
// collector when this node's part changed. m.mu is held.
func (m *Membership) reassign() {
	next := Assign(m.markets, m.live(), m.pins)
	moved := 0
	for mk, p := range next {
		if m.assign[mk].Owner != p.Owner {
			moved++
		}
	}
	if moved == 0 && maps.Equal(next, m.assign) {
		return
	}
	m.moves.Add(int64(moved))
	m.assign = next
	close(m.changed)
	m.changed = make(chan struct{})
	owned, standby := next.Count(m.conn.Node)
	if m.member {
		m.log.Info("markets reassigned", "members", fmt.Sprint(m.live()), "moved", moved, "owned", owned, "standby", standby)
	}
}

// Buckets creates or opens the members and drain buckets, trying again
// for as long as ctx allows while JetStream has no leader (each request
// may wait 5 s for one, and a cluster that restarts needs a few seconds
// to elect it).
func Buckets(ctx context.Context, c *Conn) (members, drain jetstream.KeyValue, err error) {
	for {
		members, drain, err = buckets(ctx, c)
		if err == nil || ctx.Err() != nil {
			return members, drain, err
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < time.Second {
			return members, drain, err
		}
		sleep(ctx, 250*time.Millisecond)
	}
}

// OpenBuckets opens the members and drain buckets the collectors made
// (candlewire cluster: a lookup needs only the buckets' own leaders, while
// creating or updating them waits for the JetStream cluster's, which after
// a restart of the whole cluster took longer than 30 s under load).
func OpenBuckets(ctx context.Context, c *Conn) (members, drain jetstream.KeyValue, err error) {
	for {
		if members, err = c.JS.KeyValue(ctx, MembersBucket); err == nil {
			if drain, err = c.JS.KeyValue(ctx, DrainBucket); err == nil {
				return members, drain, nil
			}
		}
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, nil, fmt.Errorf("the cluster has no %w: has a collector run?", err)
		}
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("open the cluster's buckets: %w", err)
		}
		sleep(ctx, 250*time.Millisecond)
	}
}

func buckets(ctx context.Context, c *Conn) (members, drain jetstream.KeyValue, err error) {
	members, err = c.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: MembersBucket, TTL: MemberTTL, History: 1,
		Replicas: c.Replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return nil, nil, fmt.Errorf("create the members bucket: %w", err)
	}
	drain, err = c.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: DrainBucket, History: 1,
		Replicas: c.Replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return nil, nil, fmt.Errorf("create the drain bucket: %w", err)
	}
	return members, drain, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
