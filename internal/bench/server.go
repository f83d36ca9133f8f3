package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sqlite"
)

// Stream is the stream every benchmark client follows.
var Stream = market.Series{Market: market.Default, Interval: market.I1m}

// server is the measured side.
type server struct {
	st       *sqlite.Store
	hub      *hub.Hub
	srv      *http.Server
	ln       net.Listener
	requests atomic.Int64
	url      string
	done     chan struct{}
	revs     int64 // revisions published, by one publish at a time
}

func startServer(ctx context.Context, dir string) (*server, error) {
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"), nil)
	if err != nil {
		return nil, err
	}
	h := hub.New(hub.Config{})
	a := api.New(api.Config{Store: st, Hub: h, MaxConnsPerIP: -1, MaxPollTimeout: time.Minute})
	mux := http.NewServeMux()
	a.Register(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &server{st: st, hub: h, ln: l, url: "http://" + l.Addr().String(), done: make(chan struct{})}
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	})}
	go func() { defer close(s.done); s.srv.Serve(s.ln) }() //nolint:errcheck // ends at Close
	return s, nil
}

func (s *server) close() {
	s.hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx) //nolint:errcheck // closing anyway
	s.srv.Close()
	<-s.done
	s.st.Close()
}

// publish writes a new revision of the forming candle at once and then
// rate times a second until ctx ends, as the collector's writer does
// (store, then hub), and returns how many it wrote. Each revision's trade
// count is its publish time in microseconds.
func (s *server) publish(ctx context.Context, rate float64) (int64, error) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	open := market.I1m.Truncate(time.Now().UnixMilli())
	var n int64
	for ctx.Err() == nil {
		p := market.MustDecimal(fmt.Sprintf("64321.%d", (s.revs+1)%100))
		c := market.Candle{Market: Stream.Market, Interval: Stream.Interval, OpenTime: open, Open: p, High: p, Low: p, Close: p,
			Volume: market.MustDecimal("1"), Quote: p, Trades: time.Now().UnixMicro(), State: market.Provisional, Source: market.SourceTrades}
		res, err := s.st.Upsert(ctx, []market.Candle{c})
		if ctx.Err() != nil {
			break // (an Upsert cut short by the end is not counted)
		}
		if err != nil {
			return n, fmt.Errorf("publish revision %d: %w", s.revs+1, err)
		}
		s.hub.Publish(res.Changed)
		n++
		s.revs++
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	return n, nil
}

// publishing publishes at rate until the returned stop is called, which
// returns how many updates were published, and why publishing ended early
// if it did.
func (s *server) publishing(ctx context.Context, rate float64) (stop func() (int64, error)) {
	pctx, cancel := context.WithCancel(ctx)
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() { n, err := s.publish(pctx, rate); done <- result{n, err} }()
	return func() (int64, error) { cancel(); r := <-done; return r.n, r.err }
}

// cpu returns the process's user+system CPU time.
func cpu() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss returns the process's resident memory in bytes (Linux).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
