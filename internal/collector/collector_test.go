package collector_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(killChildEnv); path != "" {
		writeUntilKilled(path)
		return
	}
	goleak.VerifyTestMain(m)
}

// expected computes 1m candles in [from, to) from the simulator's trade log,
// fetched over its admin API: the test's independent source of truth.
func expected(t *testing.T, base string, m market.Market, from, to int64) map[int64]string {
	t.Helper()
	d, err := registry.Lookup(m.Venue)
	if err != nil {
		t.Fatal(err)
	}
	want, err := oracle.Expected(base, m, d.Sim.Convention, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

var brief = oracle.Brief

// fault is injected at a real-time offset into a scenario.
type fault struct {
	at   time.Duration
	kind string
	dur  time.Duration // simulated
}

type scenario struct {
	name   string
	market market.Market
	venue  func(srv string, met *metrics.Metrics) collector.Venue
	faults []fault
	// seen lists metrics that must have counted something: reconnect
	// reasons, connect results and decode errors.
	reconnects []string
	connects   []string
	speed      float64       // default 60
	run        time.Duration // real time; default 8s
	clean      bool          // no faults: trade-built candles must equal the finals
	// snapshotRefills: the venue's subscribe sends recent finals again
	// (Kraken's ohlc snapshot), so an outage may be refilled over
	// WebSocket with no REST repair.
	snapshotRefills bool
}

// slots bounds the scenarios that run at once (one): each is a simulator, a
// collector and a database, and under the race detector on two cores more
// than one at a time made finals late for reasons of the test alone.
var slots = make(chan struct{}, 1)

// parallel runs the scenario subtest alongside others, within slots.
func parallel(t *testing.T) {
	t.Parallel()
	slots <- struct{}{}
	t.Cleanup(func() { <-slots })
}

var fast = upstream.Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}

// scenarios are one per venue of the registry: its feed and REST client,
// built by its driver with short timeouts, against the simulator, through
// every kind of fault.
func scenarios() []scenario {
	var out []scenario
	for i, d := range registry.All() {
		rest := sim.FaultREST5xx // every other venue meets 429, the others 5xx
		if i%2 == 1 {
			rest = sim.FaultREST429
		}
		sc := scenario{name: d.Name, market: d.Demo(), venue: venueOf(d),
			faults: []fault{{2000 * time.Millisecond, sim.FaultSilence, 60 * time.Second}, {3500 * time.Millisecond, sim.FaultDrop, 0},
				{3500 * time.Millisecond, sim.FaultRefuse, 20 * time.Second}, {4000 * time.Millisecond, rest, 20 * time.Second},
				{4500 * time.Millisecond, sim.FaultOversize, 0}, {5000 * time.Millisecond, sim.FaultSkipFinal, 0},
				{5000 * time.Millisecond, sim.FaultMalformed, 0}},
			reconnects: []string{"silent", "read-error", "oversized-frame"}, connects: []string{"refused"},
			snapshotRefills: d.Refills}
		if d.Sim.Shutdown {
			sc.faults = append(sc.faults, fault{5500 * time.Millisecond, sim.FaultShutdown, 0})
			sc.reconnects = append(sc.reconnects, "planned")
		}
		out = append(out, sc)
	}
	return out
}

// venueOf builds d's collector venue against the simulator at srv: its own
// feed and REST client, with a silence timeout of 200 ms, fast backoff and
// a connect budget of 100 a minute.
func venueOf(d exchange.Driver) func(srv string, met *metrics.Metrics) collector.Venue {
	return func(srv string, met *metrics.Metrics) collector.Venue {
		ep := config.Venue{WSURL: "ws" + srv[4:] + "/" + d.Name + d.Sim.WSPath, RESTURL: srv + "/" + d.Name, SilenceTimeout: 200 * time.Millisecond}
		feed, err := d.Feed(ep, upstream.Config{Backoff: fast, Metrics: met, Budget: upstream.NewBudget(100, time.Minute, nil)})
		if err != nil {
			panic(err)
		}
		rest, err := d.Client(ep, &upstream.HTTP{Venue: d.Name, Backoff: fast})
		if err != nil {
			panic(err)
		}
		return collector.Venue{Name: d.Name, Feed: feed, REST: rest, FinalGrace: d.Grace, Bins: d.Bins, TradesOnly: d.TradesOnly}
	}
}

// TestThroughFaults runs each venue's feed against the simulator over real
// sockets into SQLite, injects faults, and checks every stored minute
// against candles computed independently from the trade log.
func TestThroughFaults(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			parallel(t)
			runScenario(t, sc)
		})
	}
}

// TestHighSpeed runs both venues at 600× (ten simulated minutes per real
// second) with a dropped connection: finality comes from exchange data, so
// the candles must be exactly right at any speed.
func TestHighSpeed(t *testing.T) {
	for _, sc := range scenarios() {
		sc.speed, sc.run = 600, 4*time.Second
		sc.faults = []fault{{1500 * time.Millisecond, sim.FaultDrop, 0}}
		sc.reconnects, sc.connects = []string{"read-error"}, nil
		t.Run(sc.name, func(t *testing.T) {
			parallel(t)
			runScenario(t, sc)
		})
	}
}

// TestCleanRunHasNoCorrections runs each venue without faults: every
// candle built from trades must equal the venue's final, so no correction
// may be counted.
func TestCleanRunHasNoCorrections(t *testing.T) {
	for _, sc := range scenarios() {
		sc.run, sc.faults, sc.reconnects, sc.connects, sc.clean = 7*time.Second, nil, nil, nil, true
		t.Run(sc.name, func(t *testing.T) {
			parallel(t)
			runScenario(t, sc)
		})
	}
}

func runScenario(t *testing.T, sc scenario) {
	if sc.speed == 0 {
		sc.speed = 60 // one simulated minute per real second
	}
	if sc.run == 0 {
		sc.run = 8 * time.Second
	}
	s := sim.New(sim.Config{Seed: 42, Speed: sc.speed})
	registry.MountSims(s)
	srv := httptest.NewServer(s)
	defer srv.Close()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	met := metrics.New(prometheus.NewRegistry())
	v := sc.venue(srv.URL, met)
	v.Markets = []market.Market{sc.market}
	c, err := collector.New(collector.Config{Store: st, Venues: []collector.Venue{v}, Metrics: met})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	start := market.I1m.Truncate(s.Clock.Now()) // the minute the collector joins mid-way
	began := time.Now()
	for _, f := range sc.faults {
		time.Sleep(time.Until(began.Add(f.at)))
		if err := s.Faults.Inject(sc.market.Venue, f.kind, f.dur); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Until(began.Add(sc.run)))
	// The finals due by now (two minutes ago) must all be stored, however
	// long a loaded machine takes to deliver and repair them: wait for
	// them (a minute at most), not a fixed margin of real time.
	end := market.I1m.Truncate(s.Clock.Now() - 2*60_000)
	// Under load the first subscribe can take simulated minutes: what came
	// before the first minute the collector saw is history, not its to
	// collect.
	if first, err := st.Page(context.Background(), sc.market, market.I1m, 0, end, 1); err == nil && len(first) == 1 {
		start = max(start, first[0].OpenTime)
	}
	settled(t, st, sc.market, start, end, time.Minute)
	cancel()
	<-done
	if (end-start)/60_000 < 5 {
		t.Fatalf("the run covered %d minutes, too few to check", (end-start)/60_000)
	}
	least := 5
	if sc.snapshotRefills {
		// The quiet minutes at the end are final only when a later one has
		// trades: about one run in twelve ends on an empty minute.
		end, least = min(end, lastTraded(t, srv.URL, sc.market, start, end)), 3
	}
	want := expected(t, srv.URL, sc.market, start, end)
	got, err := st.Candles(context.Background(), sc.market, market.I1m, start, end)
	if err != nil {
		t.Fatal(err)
	}
	gaps, _ := st.Gaps(context.Background(), sc.market, 0, 1<<62)
	filled := 0
	for _, g := range gaps {
		t.Logf("gap %+v", g)
		if g.Status == store.GapFilled {
			filled += g.Filled
		}
	}
	if len(want) < least || len(got) != len(want) {
		t.Logf("missing runs: %v (of %d..%d)", collector.Missing(got, start, end, nil), start, end)
		t.Fatalf("stored %d minutes, want %d", len(got), len(want))
	}
	for _, g := range got {
		if g.State != market.Reconciled || brief(g) != want[g.OpenTime] {
			t.Errorf("minute %d: %s %s (%s), want %s", g.OpenTime, g.State, brief(g), g.Source, want[g.OpenTime])
		}
	}
	if n := testutil.ToFloat64(met.Corrections.WithLabelValues(sc.market.String())); sc.clean && n != 0 {
		t.Errorf("%v corrections in a run without faults", n)
	}
	// Kraken's snapshot on resubscribe may refill what the faults cost
	// before any repair is due: right candles, with no gap to fill.
	if filled == 0 && sc.speed == 60 && !sc.clean && !sc.snapshotRefills {
		t.Error("the faults left no filled gap in the ledger")
	}
	for _, r := range sc.reconnects {
		if testutil.ToFloat64(met.Reconnects.WithLabelValues(sc.market.Venue, r)) == 0 {
			t.Errorf("no reconnect with reason %q was counted; counted: %s", r, reconnectsOf(met, sc.market.Venue))
		}
	}
	for _, r := range sc.connects {
		if testutil.ToFloat64(met.Connects.WithLabelValues(sc.market.Venue, r)) == 0 {
			t.Errorf("no connect with result %q was counted", r)
		}
	}
	for _, f := range sc.faults {
		if f.kind == sim.FaultMalformed && testutil.ToFloat64(met.DecodeErrors.WithLabelValues(sc.market.Venue, "decode")) == 0 {
			t.Error("the malformed frame was not counted")
		}
	}
	fives, _ := st.Candles(context.Background(), sc.market, market.I5m, start, end)
	for _, f := range fives {
		if f.OpenTime+5*60_000 <= end && f.State != market.Reconciled {
			t.Errorf("5m bin %d is %s", f.OpenTime, f.State)
		}
	}
}

// reconnectsOf lists the reconnects counted for venue by reason, for a
// failure message.
func reconnectsOf(met *metrics.Metrics, venue string) string {
	var out []string
	for _, r := range []string{"planned", "rate-limited", "silent", "oversized-frame", "closed-by-server", "read-error"} {
		if n := testutil.ToFloat64(met.Reconnects.WithLabelValues(venue, r)); n > 0 {
			out = append(out, fmt.Sprintf("%s=%v", r, n))
		}
	}
	return strings.Join(out, " ")
}

// lastTraded returns the newest minute before the minute of limit that had
// trades: Kraken settles a window only when a later one has trades (its
// heartbeats carry no time), so the minutes before it are the ones due.
func lastTraded(t *testing.T, base string, m market.Market, from, limit int64) int64 {
	t.Helper()
	all := expected(t, base, m, from, limit+60_000)
	for at := limit; at > from; at -= 60_000 {
		if f := strings.Split(all[at], "/"); len(f) == 7 && f[4] != "0" {
			return at
		}
	}
	return from
}

// settled waits until every minute of m in [from, to) is stored
// reconciled, or d has passed (the checks that follow then say what is
// missing).
func settled(t *testing.T, st store.Store, m market.Market, from, to int64, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		cs, err := st.Candles(context.Background(), m, market.I1m, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(collector.Missing(cs, from, to, nil)) == 0 {
			return
		}
	}
}
