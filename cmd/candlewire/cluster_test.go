package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/api/apitest"
	"github.com/candlewire/candlewire/internal/bus/natstest"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/sim"
)

// TestClusterCollectorsAndGateway runs a cluster on a 3-node JetStream
// cluster and one PostgreSQL database: two `candlewire collect` processes
// collect the same 10 markets from one simulator, and a `candlewire serve`
// gateway feeds a WebSocket client from the bus. One collector is killed
// (kill -9) mid-way and a NATS server is stopped and started. Afterwards
// every minute of every market is stored once, final, and equal to the
// candle built from the simulator's trade log, and the client's newest
// version of every 1m bin is the stored one.
func TestClusterCollectorsAndGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("three processes for 20 s")
	}
	db := pgtest.Fresh(t)
	nc := natstest.Start(t, 3)
	venues := drivers(func(d exchange.Driver) bool { return !d.Refills })
	var ms []market.Market
	for _, d := range venues {
		for i := range 2 {
			ms = append(ms, market.Market{Venue: d.Name, Symbol: d.Sim.BenchSymbol(i)})
		}
	}
	s := sim.New(sim.Config{Seed: 2029, Speed: writersSpeed})
	registry.MountSims(s)
	srv := httptest.NewServer(s)
	defer srv.Close()
	args := runArgs(t, t.TempDir(), db, srv.URL, venues)
	args[0] = "collect"
	args[slices.Index(args, "--markets")+1] = marketList(ms)
	var collectors []*proc
	for i := range 2 {
		p := start(t, append(args, "--nats", nc.URLs(), "--node", fmt.Sprintf("c%d", i))...)
		defer keepLog(t, fmt.Sprintf("collector%d", i), p)
		collectors = append(collectors, p)
	}
	gw := start(t, "serve", "--markets", marketList(ms), "--db", db, "--listen", "127.0.0.1:0", "--nats", nc.URLs(),
		"--node", "g0", "--log", "debug")
	defer keepLog(t, "gateway", gw)
	for _, p := range collectors {
		waitMarkets(t, p, ms)
	}
	var streams []string
	for _, m := range ms {
		streams = append(streams, m.String()+"@1m")
	}
	msgs := make(chan apitest.Msg, 1024)
	clientDone := make(chan struct{})
	client := map[string]apitest.Msg{} // newest message per stream and minute
	go func() {
		defer close(clientDone)
		for m := range msgs {
			if m.Type == "candle" {
				client[fmt.Sprintf("%s %d", m.Stream, m.Candle.T)] = m
			}
		}
	}()
	go func() { apitest.WS(context.Background(), "http://"+gw.addr, streams, 0, msgs); close(msgs) }() //nolint:errcheck // ends with the process
	begin := market.I1m.Truncate(s.Clock.Now()) + time.Minute.Milliseconds()
	waitSim(s, begin+2*time.Minute.Milliseconds())
	collectors[0].kill(t)
	if err := s.Faults.Inject("binance", sim.FaultDrop, 0); err != nil {
		t.Fatal(err)
	}
	waitSim(s, begin+3*time.Minute.Milliseconds())
	nc.Stop(1)
	waitSim(s, begin+4*time.Minute.Milliseconds())
	nc.Start(1)
	const session = 6 * time.Minute
	end := begin + session.Milliseconds()
	waitSim(s, end+3*time.Minute.Milliseconds()) // the last finals are due
	st, err := postgres.Open(context.Background(), db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for deadline := time.Now().Add(90 * time.Second); !allFinal(st, ms, begin, end) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if m := collectors[1].scrape(t); m.sum("candlewire_relay_leader") != 1 || m.sum("candlewire_relay_lag") > 1000 {
		t.Errorf("the live collector: relay leader %v, lag %v", m.sum("candlewire_relay_leader"), m.sum("candlewire_relay_lag"))
	}
	collectors[1].stop(t)
	time.Sleep(2 * time.Second) // the gateway's feed reads the last writes within its second
	m := gw.scrape(t)
	fromBus, fromStore := m.sum("candlewire_feed_changes_total", "from", "bus"), m.sum("candlewire_feed_changes_total", "from", "store")
	t.Logf("the gateway's feed: %v changes from the bus, %v from the store, %v holes", fromBus, fromStore,
		m.sum("candlewire_feed_holes_total"))
	if fromBus <= fromStore || m.sum("candlewire_nats_connected") != 1 || m.sum("candlewire_node_info", "role", "gateway") != 1 {
		t.Errorf("the gateway: %v changes from the bus, %v from the store; NATS connected %v; info %v", fromBus, fromStore,
			m.sum("candlewire_nats_connected"), m.sum("candlewire_node_info", "role", "gateway"))
	}
	gw.stop(t)
	<-clientDone
	for _, m := range ms {
		d, _ := registry.Lookup(m.Venue)
		t.Run(m.String(), func(t *testing.T) { checkMarket(t, st, srv.URL, d, m, begin, end) })
	}
	var series []market.Series
	for _, m := range ms {
		series = append(series, market.Series{Market: m, Interval: market.I1m})
	}
	stored, err := st.Since(context.Background(), series, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range stored {
		if got := client[fmt.Sprintf("%s@1m %d", c.Market, c.OpenTime)]; got.Cursor != c.Seq || got.Candle.Rev != c.Rev {
			t.Errorf("%s %s: the gateway's WebSocket client's newest is cursor %d rev %d, stored seq %d rev %d", c.Market,
				fmtMin(c.OpenTime), got.Cursor, got.Candle.Rev, c.Seq, c.Rev)
		}
	}
	if len(stored) < len(ms)*int(session/time.Minute) {
		t.Fatalf("%d rows stored for %d markets", len(stored), len(ms))
	}
	if log := gw.logText(); !strings.Contains(log, "role=gateway") {
		t.Errorf("the gateway did not say its role:\n%s", log)
	}
}
