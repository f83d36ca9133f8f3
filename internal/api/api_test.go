package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/api/apitest"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
)

var (
	btc = market.Series{Market: market.Default, Interval: market.I1m}
	xbt = market.Series{Market: market.Market{Venue: "bitmex", Symbol: "XBTUSD"}, Interval: market.I1m}
)

// rig is a real SQLite store, a hub and the API on a loopback server.
type rig struct {
	st   *sqlite.Store
	hub  *hub.Hub
	srv  *httptest.Server
	mu   sync.Mutex
	slow int // subscribers the hub ended as slow
}

func newRig(t testing.TB, hc hub.Config) *rig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, hub: hub.New(hc)}
	mux := http.NewServeMux()
	New(Config{Store: st, Hub: r.hub, Markets: []market.Market{btc.Market, xbt.Market}, Heartbeat: 200 * time.Millisecond}).Register(mux)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		r.hub.Close() // clients are told "going away" before the server closes
		r.srv.Close()
		st.Close()
	})
	return r
}

// write stores candles and publishes the changes, as the collector's
// writer does.
func (r *rig) write(t testing.TB, cs ...market.Candle) {
	t.Helper()
	res, err := r.st.Upsert(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	n := r.hub.Publish(res.Changed)
	r.mu.Lock()
	r.slow += n
	r.mu.Unlock()
}

// bin is minute m of a series at price px.
func bin(s market.Series, m int, px string, final bool) market.Candle {
	p := market.MustDecimal(px)
	c := market.Candle{Market: s.Market, Interval: s.Interval, OpenTime: int64(m) * 60_000, Open: p, High: p, Low: p, Close: p,
		Volume: market.MustDecimal("1"), Quote: p, Trades: 1, State: market.Provisional, Source: market.SourceTrades}
	if final {
		c.State, c.Source = market.Reconciled, market.SourceKline
	}
	return c
}

// minute writes three forming versions of minute m of each series, then
// its final.
func (r *rig) minute(t testing.TB, m int, series ...market.Series) {
	for k := 1; k <= 3; k++ {
		for _, s := range series {
			r.write(t, bin(s, m, fmt.Sprintf("%d.%d", 100+m, k), false))
		}
	}
	for _, s := range series {
		r.write(t, bin(s, m, fmt.Sprintf("%d.9", 100+m), true))
	}
}

// collector gathers what one client received.
type collector struct {
	mu     sync.Mutex
	finals map[string][]int64 // stream -> open times of final candles, in arrival order
	all    []apitest.Msg
}

func (c *collector) add(m apitest.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, m)
	if m.Candle.Final {
		c.finals[m.Stream] = append(c.finals[m.Stream], m.Candle.T)
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, f := range c.finals {
		n += len(f)
	}
	return n
}

// start runs a client of a transport in the background.
func start(ctx context.Context, tr apitest.Client, base string, streams []string, since int64) (*collector, <-chan int64) {
	col := &collector{finals: map[string][]int64{}}
	out := make(chan apitest.Msg, 64)
	done := make(chan int64, 1)
	go func() {
		cursor, _ := tr(ctx, base, streams, since, out)
		close(out)
		done <- cursor
	}()
	go func() {
		for m := range out {
			col.add(m)
		}
	}()
	return col, done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEveryFinalOnceInOrder: concurrent clients of each transport receive
// every final candle of two streams exactly once and in order.
func TestEveryFinalOnceInOrder(t *testing.T) {
	const clients, minutes = 25, 20
	for _, tr := range apitest.Transports {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, hub.Config{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cols := make([]*collector, clients)
			for i := range cols {
				cols[i], _ = start(ctx, tr.Run, r.srv.URL, []string{btc.String(), xbt.String()}, 0)
			}
			for m := range minutes {
				r.minute(t, m, btc, xbt)
				time.Sleep(2 * time.Millisecond)
			}
			for i, c := range cols {
				waitFor(t, fmt.Sprintf("client %d's finals", i), func() bool { return c.count() >= 2*minutes })
				c.mu.Lock()
				for _, s := range []market.Series{btc, xbt} {
					got := c.finals[s.String()]
					if len(got) != minutes || !sort.SliceIsSorted(got, func(a, b int) bool { return got[a] < got[b] }) || got[0] != 0 {
						t.Errorf("client %d, %s: finals %v, want minutes 0..%d once each, in order", i, s, got, minutes-1)
					}
				}
				c.mu.Unlock()
			}
		})
	}
}

// TestResumeGetsExactlyWhatWasMissed: a client that goes away and comes
// back with its cursor receives exactly the bins that changed meanwhile,
// corrections of old bins included, each once.
func TestResumeGetsExactlyWhatWasMissed(t *testing.T) {
	for _, tr := range apitest.Transports {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, hub.Config{})
			for m := range 5 {
				r.minute(t, m, btc)
			}
			ctx, cancel := context.WithCancel(context.Background())
			first, done := start(ctx, tr.Run, r.srv.URL, []string{btc.String()}, 0)
			waitFor(t, "the first five finals", func() bool { return first.count() == 5 })
			cancel()
			cursor := <-done
			// While it is away: five more minutes and a correction of minute 2.
			for m := 5; m < 10; m++ {
				r.minute(t, m, btc)
			}
			r.write(t, bin(btc, 2, "999", true))
			ctx2, cancel2 := context.WithCancel(context.Background())
			defer cancel2()
			back, _ := start(ctx2, tr.Run, r.srv.URL, []string{btc.String()}, cursor)
			waitFor(t, "the missed finals", func() bool { return back.count() >= 6 })
			time.Sleep(200 * time.Millisecond) // nothing more may come
			back.mu.Lock()
			defer back.mu.Unlock()
			want := []int64{5, 6, 7, 8, 9, 2}
			var got []int64
			for _, m := range back.all {
				got = append(got, m.Candle.T/60_000)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || back.all[5].Candle.C != "999" {
				t.Fatalf("after resuming from %d: minutes %v (last close %s), want %v with the correction last", cursor, got, back.all[len(back.all)-1].Candle.C, want)
			}
		})
	}
}

// TestStalledClientIsDroppedAsSlow: a streaming client (WebSocket or SSE)
// that stops reading is ended as slow by its bounded queue, while another
// client of the same transport keeps receiving promptly. (Polling clients
// hold nothing on the server between requests, so they cannot stall it.)
func TestStalledClientIsDroppedAsSlow(t *testing.T) {
	for _, tr := range apitest.Transports[:2] { // ws, sse
		t.Run(tr.Name, func(t *testing.T) { stalledClient(t, tr.Run) })
	}
}

func stalledClient(t *testing.T, client apitest.Client) {
	r := newRig(t, hub.Config{QueueMessages: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stalled := make(chan apitest.Msg) // never read: the client blocks, then its socket fills
	stalledDone := make(chan error, 1)
	go func() { _, err := client(ctx, r.srv.URL, []string{btc.String()}, 0, stalled); stalledDone <- err }()
	healthy, _ := start(ctx, client, r.srv.URL, []string{btc.String()}, 0)
	time.Sleep(100 * time.Millisecond)
	// 20,000 distinct bins (nothing conflates), about 5 MB: more than the
	// socket buffers hold, so the stalled client's writer blocks and its
	// queue overflows.
	const bins = 20_000
	written := make([]time.Time, bins)
	for b := 0; b < bins; b += 100 {
		batch := make([]market.Candle, 100)
		for i := range batch {
			batch[i] = bin(btc, b+i, "100", true)
		}
		r.write(t, batch...)
		for i := range batch {
			written[b+i] = time.Now()
		}
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "the healthy client's finals", func() bool { return healthy.count() == bins })
	r.mu.Lock()
	slow := r.slow
	r.mu.Unlock()
	if slow != 1 {
		t.Fatalf("%d subscribers ended as slow, want the stalled one", slow)
	}
	healthy.mu.Lock()
	defer healthy.mu.Unlock()
	if n := len(healthy.all); n != bins {
		t.Fatalf("healthy client got %d", n)
	}
	// The healthy client's delivery latency stays bounded while the other
	// one is stuck (generous, for the race detector on a loaded machine).
	var lat []time.Duration
	for _, m := range healthy.all {
		lat = append(lat, m.At.Sub(written[m.Candle.T/60_000]))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if p99 := lat[len(lat)*99/100]; p99 > time.Second {
		t.Errorf("healthy client's p99 latency %s while another client stalled", p99)
	}
	t.Logf("healthy client latency: p50 %s, p99 %s, max %s", lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	cancel()
	<-stalledDone
}
