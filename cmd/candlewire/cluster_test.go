package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/api/apitest"
	"github.com/candlewire/candlewire/internal/bus/natstest"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/store"
)

// TestClusterCollectorsAndGateway runs a cluster on a 3-node JetStream
// cluster and one PostgreSQL server: three `candlewire collect` processes
// share 10 markets from one simulator (each market owned by one and stood
// by by another), and two `candlewire serve` gateways feed clients of the
// four transports from the bus. Faults, in turn: the kill -9 of the
// collector holding the relay's lease, a NATS server stopped and started,
// the whole NATS cluster restarted, PostgreSQL stopped for 5 s, the first
// gateway's kill -9 (its clients resume on the second from their
// cursors), a collector drained and undrained (`candlewire cluster
// drain`). The markets move among the live collectors and another takes
// the relay; afterwards every minute of every market is stored once,
// final, and equal to the candle built from the simulator's trade log,
// and every client's newest version of every 1m bin is the stored one.
func TestClusterCollectorsAndGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("five processes for a minute")
	}
	pg := pgtest.StartOwn(t) // a server of the test's own, to restart
	db := pg.DSN
	nc := natstest.Start(t, 3)
	ms, s, base, args := simSession(t, 2029, clusterSpeed, 2, db)
	args[0] = "collect"
	var collectors []*proc
	for i := range 3 {
		p := start(t, append(args, "--nats", nc.URLs(), "--node", fmt.Sprintf("c%d", i))...)
		defer keepLog(t, fmt.Sprintf("collector%d", i), p)
		collectors = append(collectors, p)
	}
	var gateways []*proc
	for i := range 2 {
		gw := start(t, "serve", "--markets", marketList(ms), "--db", db, "--listen", "127.0.0.1:0", "--nats", nc.URLs(),
			"--node", fmt.Sprintf("g%d", i), "--log", "debug")
		defer keepLog(t, fmt.Sprintf("gateway%d", i), gw)
		gateways = append(gateways, gw)
	}
	// A client of each transport on the first gateway, resuming on the
	// second from its cursor when the first dies; and one of the second's.
	var clients []*resumer
	for _, tr := range []transport{{"ws", apitest.WS}, {"sse", apitest.SSE}, {"longpoll", apitest.LongPoll}, {"poll", apitest.Poll}} {
		clients = append(clients, resume(tr, ms, gateways[0], gateways[1]))
	}
	clients = append(clients, resume(transport{"ws", apitest.WS}, ms, gateways[1]))
	bitmex := followBitmex(t, gateways[1], ms[0]) // a program written against BitMEX's /realtime
	waitOwned(t, collectors, len(ms), 3)
	checkOwners(t, gateways[1], ms, "c0", "c1", "c2")
	begin := market.I1m.Truncate(s.Clock.Now()) + time.Minute.Milliseconds()
	waitSim(s, begin+time.Minute.Milliseconds())
	if out := runCLI(t, "cluster", "status", "--nats", nc.URLs()); !strings.Contains(out, "c0") || !strings.Contains(out, "relay: c") {
		t.Errorf("cluster status:\n%s", out)
	}
	// The relay's holder is the collector killed: it moves first.
	names := []string{"c0", "c1", "c2"}
	for i, p := range collectors {
		if p.scrape(t).sum("candlewire_relay_leader") == 1 {
			collectors[0], collectors[i], names[0], names[i] = collectors[i], collectors[0], names[i], names[0]
			break
		}
	}
	collectors[0].kill(t)
	if err := s.Faults.Inject("binance", sim.FaultDrop, 0); err != nil {
		t.Fatal(err)
	}
	waitOwned(t, collectors[1:], len(ms), 2)
	nc.Stop(1)
	time.Sleep(2 * time.Second)
	nc.Start(1)
	nc.Restart() // the whole NATS cluster
	pg.Stop()
	time.Sleep(5 * time.Second)
	pg.Start()
	gateways[0].kill(t)
	runCLI(t, "cluster", "drain", names[1], "--nats", nc.URLs())
	waitOwned(t, collectors[2:], len(ms), 1)
	runCLI(t, "cluster", "undrain", names[1], "--nats", nc.URLs())
	waitOwned(t, collectors[1:], len(ms), 2)
	live := slices.Sorted(slices.Values(names[1:]))
	checkOwners(t, gateways[1], ms, live...)
	ctx := browse(t, "http://"+gateways[1].addr+"/", 1280)
	waitJS(t, ctx, "the strip names the market's collector", `/collected by c[0-2]/.test(document.getElementById('quality').textContent)`)
	end := market.I1m.Truncate(s.Clock.Now())
	waitSim(s, end+3*time.Minute.Milliseconds()) // the last finals are due
	st, err := postgres.Open(context.Background(), db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for deadline := time.Now().Add(90 * time.Second); !allFinal(st, ms, begin, end) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if m := collectors[1].scrape(t).add(collectors[2].scrape(t)); m.sum("candlewire_relay_leader") != 1 {
		t.Errorf("relay leaders among the live collectors: %v", m.sum("candlewire_relay_leader"))
	}
	collectors[1].stop(t)
	collectors[2].stop(t)
	var series []market.Series
	for _, m := range ms {
		series = append(series, market.Series{Market: m, Interval: market.I1m})
	}
	stored, err := st.Since(context.Background(), series, 0, 1<<30)
	if err != nil || len(stored) == 0 {
		t.Fatalf("%d stored, %v", len(stored), err)
	}
	last := stored[len(stored)-1].Seq
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !slices.ContainsFunc(clients, func(c *resumer) bool { return c.newest() < last }) {
			break
		}
	}
	bitmex.check(t, stored, begin, end)
	for i, gw := range gateways[1:] {
		m := gw.scrape(t)
		fromBus, fromStore := m.sum("candlewire_feed_changes_total", "from", "bus"), m.sum("candlewire_feed_changes_total", "from", "store")
		t.Logf("gateway %d's feed: %v changes from the bus, %v from the store, %v holes", i, fromBus, fromStore,
			m.sum("candlewire_feed_holes_total"))
		if m.sum("candlewire_postgres_connected") != 1 || m.sum("candlewire_nats_connected") != 1 {
			t.Errorf("gateway %d: postgres_connected %v, nats_connected %v", i, m.sum("candlewire_postgres_connected"),
				m.sum("candlewire_nats_connected"))
		}
		if m.sum("candlewire_trades_received_total") == 0 || m.sum("candlewire_trades_bad_messages_total") != 0 {
			t.Errorf("gateway %d: %v live trades from the bus, %v bad", i, m.sum("candlewire_trades_received_total"),
				m.sum("candlewire_trades_bad_messages_total"))
		}
		if fromBus <= fromStore || m.sum("candlewire_node_info", "role", "gateway") != 1 {
			t.Errorf("gateway %d: %v changes from the bus, %v from the store; info %v", i, fromBus, fromStore,
				m.sum("candlewire_node_info", "role", "gateway"))
		}
		gw.stop(t)
	}
	for _, m := range ms {
		d, _ := registry.Lookup(m.Venue)
		t.Run(m.String(), func(t *testing.T) {
			checkMarket(t, st, base, d, m, begin, end)
			checkSeams(t, st, m, begin, end)
		})
	}
	for _, c := range clients {
		got, gws := c.wait()
		for _, sc := range stored {
			// A poll's cursor is its response's, not each candle's: its
			// candles are matched by revision alone.
			if m := got[fmt.Sprintf("%s@1m %d", sc.Market, sc.OpenTime)]; m.Cursor != sc.Seq && c.name != "poll" || m.Candle.Rev != sc.Rev {
				t.Errorf("%s %s: the %s client's newest is cursor %d rev %d, stored seq %d rev %d", sc.Market,
					fmtMin(sc.OpenTime), c.name, m.Cursor, m.Candle.Rev, sc.Seq, sc.Rev)
			}
		}
		if gws != c.gateways {
			t.Errorf("the %s client was served by %d of its %d gateways", c.name, gws, c.gateways)
		}
		checkOnce(t, c, stored, begin, end)
	}
}

// checkSeams: the gap ledger explains every seam of the minutes [begin,
// end): each gap found there is filled, whole, and every minute stored from
// REST lies in a gap.
func checkSeams(t *testing.T, st store.Store, m market.Market, begin, end int64) {
	t.Helper()
	ctx := context.Background()
	gaps, err := st.Gaps(ctx, m, begin, end)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gaps {
		t.Logf("gap %s..%s %d min %s %s filled=%d %s", fmtMin(g.From), fmtMin(g.To), g.Minutes(), g.Reason, g.Status, g.Filled, g.Detail)
		if g.Status != store.GapFilled || g.Filled != g.Minutes() {
			t.Errorf("gap %s..%s (%s) is %s with %d of %d minutes filled", fmtMin(g.From), fmtMin(g.To), g.Reason, g.Status, g.Filled, g.Minutes())
		}
	}
	restInGaps(t, st, m, gaps, begin, end)
}

// checkOnce: the client received every stored final candle of the
// minutes [begin, end) exactly once (the plain-polling client at least
// once: it resumes from one cursor for all its markets), and the changes
// of those minutes in cursor order (but the plain-polling client's, which
// polls one market at a time, each from its own cursor).
func checkOnce(t *testing.T, c *resumer, stored []market.Candle, begin, end int64) {
	t.Helper()
	finals := map[string]int{}
	var prev int64
	for _, m := range c.all {
		if m.Candle.T < begin || m.Candle.T >= end {
			continue
		}
		if c.name != "poll" && m.Cursor <= prev {
			t.Errorf("the %s client got cursor %d after %d (%s %s)", c.name, m.Cursor, prev, m.Stream, fmtMin(m.Candle.T))
		}
		prev = max(prev, m.Cursor)
		if k := fmt.Sprintf("%s %d rev %d", m.Stream, m.Candle.T, m.Candle.Rev); m.Candle.Final {
			// The plain-polling client resumes every market from the
			// least of its cursors (apitest.Poll returns one), so the
			// markets it had polled further get their changes again:
			// its finals are counted once each, whatever it asked twice.
			if c.name != "poll" || finals[k] == 0 {
				finals[k]++
			}
		}
	}
	for _, sc := range stored {
		if sc.OpenTime < begin || sc.OpenTime >= end {
			continue
		}
		k := fmt.Sprintf("%s@1m %d rev %d", sc.Market, sc.OpenTime, sc.Rev)
		if n := finals[k]; n != 1 {
			t.Errorf("the %s client got the final %s %d times", c.name, k, n)
		}
		delete(finals, k)
	}
	for k, n := range finals {
		if n > 1 {
			t.Errorf("the %s client got the superseded final %s %d times", c.name, k, n)
		}
	}
}

// clusterSpeed is the simulator's speed in the cluster test: slower than
// the writers test's, since ownership moves in real seconds.
const clusterSpeed = 10

// transport is a client transport of apitest: it follows streams from
// a cursor until the connection ends, and returns the newest cursor.
type transport struct {
	name   string
	follow func(ctx context.Context, base string, streams []string, since int64, out chan<- apitest.Msg) (int64, error)
}

// resumer is a client of the 1m streams that moves to the next gateway,
// with its cursor, when one stops serving it.
type resumer struct {
	name     string
	gateways int
	done     chan struct{}
	got      map[string]apitest.Msg // newest candle per stream and minute
	all      []apitest.Msg          // every candle, in the order received
	served   int                    // gateways that delivered candles
	last     atomic.Int64           // the newest cursor received
}

// newest is the newest cursor the client received.
func (c *resumer) newest() int64 { return c.last.Load() }

// resume starts a client of transport tr on the gateways in turn.
func resume(tr transport, ms []market.Market, gateways ...*proc) *resumer {
	var streams []string
	for _, m := range ms {
		streams = append(streams, m.String()+"@1m")
	}
	c := &resumer{name: tr.name, gateways: len(gateways), done: make(chan struct{}), got: map[string]apitest.Msg{}}
	go func() {
		defer close(c.done)
		var cursor int64
		for _, gw := range gateways {
			n := 0
			for alive := true; alive; {
				// A request that fails (a gateway answers 503 while
				// PostgreSQL is away) is made again, while the gateway runs.
				msgs := make(chan apitest.Msg, 1024)
				got := make(chan int)
				go func() {
					k := 0
					for m := range msgs {
						if m.Type == "candle" {
							c.got[fmt.Sprintf("%s %d", m.Stream, m.Candle.T)] = m
							c.all = append(c.all, m)
							c.last.Store(max(c.last.Load(), m.Cursor))
							k++
						}
					}
					got <- k
				}()
				cursor, _ = tr.follow(context.Background(), "http://"+gw.addr, streams, cursor, msgs) //nolint:errcheck // made again
				close(msgs)
				n += <-got
				select {
				case <-gw.done:
					alive = false
				case <-time.After(200 * time.Millisecond):
				}
			}
			if n > 0 {
				c.served++
			}
		}
	}()
	return c
}

// wait returns what the client got, and from how many gateways, once
// its last gateway stopped.
func (c *resumer) wait() (map[string]apitest.Msg, int) {
	<-c.done
	return c.got, c.served
}

// waitOwned waits until the collectors together own all n markets, each
// of them seeing members live collectors and owning some.
func waitOwned(t *testing.T, collectors []*proc, n, members int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		owned, ok := 0.0, true
		for _, p := range collectors {
			m := p.scrape(t)
			owned += m.sum("candlewire_markets_owned")
			ok = ok && m.sum("candlewire_cluster_members") == float64(members) && m.sum("candlewire_markets_owned") > 0
		}
		if ok && owned == float64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collectors own %v of %d markets, seeing members other than %d, after 60 s", owned, n, members)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runCLI runs a candlewire command to its end and returns its output.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("candlewire %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// checkOwners: the gateway's /v1/status names an owner and a standby
// among live for every market, and itself as a gateway.
func checkOwners(t *testing.T, gw *proc, ms []market.Market, live ...string) {
	t.Helper()
	// The gateway hears the members every beat, after the collectors may
	// have: it is given until the condition holds, 30 s at most.
	var st ownersStatus
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		st = gatewayStatus(t, gw)
		if st.Node.Role == "gateway" && slices.Equal(st.Node.Members, live) && len(st.Markets) == len(ms) &&
			slices.Contains(live, st.Node.Relay) && st.Node.NATS && st.Node.Postgres &&
			!slices.ContainsFunc(st.Markets, func(m ownerStandby) bool { return !m.heldBy(live) }) {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if st.Node.Role != "gateway" || !slices.Equal(st.Node.Members, live) || len(st.Markets) != len(ms) ||
		!slices.Contains(live, st.Node.Relay) || !st.Node.NATS || !st.Node.Postgres {
		t.Fatalf("the gateway's status after 30 s: %+v", st)
	}
	for _, m := range st.Markets {
		if !m.heldBy(live) {
			t.Errorf("%s: owner %q, standby %q; want two of %v", m.Market, m.Owner, m.Standby, live)
		}
	}
}

type ownerStandby struct{ Market, Owner, Standby string }

// heldBy says whether the market's owner and standby are two of live.
func (m ownerStandby) heldBy(live []string) bool {
	return m.Owner != m.Standby && slices.Contains(live, m.Owner) && slices.Contains(live, m.Standby)
}

type ownersStatus struct {
	Node struct {
		Role     string   `json:"role"`
		Members  []string `json:"members"`
		Relay    string   `json:"relay"`
		NATS     bool     `json:"nats_connected"`
		Postgres bool     `json:"postgres_connected"`
	} `json:"node"`
	Markets []ownerStandby `json:"markets"`
}

func gatewayStatus(t *testing.T, gw *proc) ownersStatus {
	t.Helper()
	resp, err := http.Get("http://" + gw.addr + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st ownersStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
