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

// Heartbeats: a member puts itself every Beat; one not heard for
// MemberTTL is gone.
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

// Membership keeps a collector in the members bucket, follows the live,
// undrained collectors and assigns the markets among them (Assign). It
// is the collector's collector.Assigner.
type Membership struct {
	conn    *Conn
	markets []market.Market
	pins    map[string][]string
	log     *slog.Logger
	started time.Time
	member  bool // a collector: it heartbeats and is assigned markets; else it only follows (a gateway)

	mu       sync.Mutex
	heard    map[string]time.Time // live members, by when last heard (this clock)
	draining map[string]bool
	assign   Assignment
	changed  chan struct{}
	moves    atomic.Int64 // markets whose owner changed
}

// NewMembership returns the membership of this node (conn.Node), which
// collects markets, with pins (config.Cluster's).
func NewMembership(conn *Conn, markets []market.Market, pins map[string][]string, log *slog.Logger) *Membership {
	m := &Membership{conn: conn, markets: markets, pins: pins, log: log, started: time.Now(), member: true,
		heard: map[string]time.Time{conn.Node: time.Now()}, draining: map[string]bool{}, changed: make(chan struct{})}
	m.assign = Assign(markets, []string{conn.Node}, pins)
	return m
}

// NewObserver returns a membership that follows the collectors without
// being one (a gateway), to say who collects each market.
func NewObserver(conn *Conn, markets []market.Market, pins map[string][]string, log *slog.Logger) *Membership {
	return &Membership{conn: conn, markets: markets, pins: pins, log: log, started: time.Now(),
		heard: map[string]time.Time{}, draining: map[string]bool{}, changed: make(chan struct{}), assign: Assignment{}}
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
// cluster's, not this node's alone.
func (m *Membership) Join(ctx context.Context) error {
	members, drain, err := Buckets(ctx, m.conn)
	if err != nil {
		return err
	}
	m.beat(ctx, members)
	for _, b := range []struct {
		kv   jetstream.KeyValue
		into func(string)
	}{
		{members, func(k string) { m.heard[k] = time.Now() }},
		{drain, func(k string) { m.draining[k] = true }},
	} {
		keys, err := b.kv.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("list the %s bucket: %w", b.kv.Bucket(), err)
		}
		m.mu.Lock()
		for k := range keys.Keys() {
			b.into(k)
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reassign()
	return nil
}

// Run heartbeats and follows the members until ctx ends, then leaves the
// members at once (its markets move without waiting for the TTL).
func (m *Membership) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := m.follow(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("following the cluster's members failed; again in a moment", "err", err)
			sleep(ctx, Beat)
		}
	}
	if !m.member {
		return nil
	}
	lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if kv, err := m.conn.JS.KeyValue(lctx, MembersBucket); err == nil {
		kv.Delete(lctx, m.conn.Node) //nolint:errcheck // it expires anyway
	}
	return nil
}

// follow watches the members and drain buckets and heartbeats, until ctx
// ends or a watch fails.
func (m *Membership) follow(ctx context.Context) error {
	members, drain, err := Buckets(ctx, m.conn)
	if err != nil {
		return err
	}
	mw, err := members.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch the members: %w", err)
	}
	defer mw.Stop() //nolint:errcheck // ends with ctx too
	dw, err := drain.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch the drained nodes: %w", err)
	}
	defer dw.Stop() //nolint:errcheck // ends with ctx too
	t := time.NewTicker(Beat)
	defer t.Stop()
	m.beat(ctx, members)
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-mw.Updates():
			if !ok {
				return errors.New("the members watch ended")
			}
			m.apply(e, m.heard)
		case e, ok := <-dw.Updates():
			if !ok {
				return errors.New("the drain watch ended")
			}
			m.apply(e, nil)
		case <-t.C:
			m.beat(ctx, members)
		}
	}
}

// apply takes a bucket's entry: a member heard (into heard), or a node
// drained (heard nil). A nil entry ends the watch's first values.
func (m *Membership) apply(e jetstream.KeyValueEntry, heard map[string]time.Time) {
	if e == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	gone := e.Operation() != jetstream.KeyValuePut
	switch {
	case heard != nil && gone:
		delete(m.heard, e.Key())
	case heard != nil:
		m.heard[e.Key()] = time.Now()
	case gone:
		delete(m.draining, e.Key())
	default:
		m.draining[e.Key()] = true
	}
	m.reassign()
}

// beat puts this member, and forgets those not heard for MemberTTL
// while the bus is up (when it is down, nobody is heard: the assignment
// stays as it was, and the collectors keep collecting).
func (m *Membership) beat(ctx context.Context, members jetstream.KeyValue) {
	m.mu.Lock()
	owned, standby := m.assign.Count(m.conn.Node)
	me := Member{Node: m.conn.Node, Started: m.started, Markets: len(m.markets), Owned: owned, Standby: standby}
	now := time.Now()
	for n, at := range m.heard {
		switch {
		case !m.conn.Connected():
			m.heard[n] = now
		case n != m.conn.Node && now.Sub(at) > MemberTTL:
			delete(m.heard, n)
		}
	}
	if !m.member {
		m.reassign()
		m.mu.Unlock()
		return
	}
	m.heard[m.conn.Node] = now
	m.reassign()
	m.mu.Unlock()
	b, _ := json.Marshal(me) //nolint:errchkjson // plain fields
	pctx, cancel := context.WithTimeout(ctx, Beat)
	defer cancel()
	if _, err := members.Put(pctx, m.conn.Node, b); err != nil && ctx.Err() == nil {
		m.log.Debug("heartbeat failed", "err", err)
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

// Buckets creates or opens the members and drain buckets.
func Buckets(ctx context.Context, c *Conn) (members, drain jetstream.KeyValue, err error) {
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
