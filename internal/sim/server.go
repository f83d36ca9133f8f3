package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// Config configures a simulator. Zero fields take the documented defaults.
type Config struct {
	Seed     uint64
	Speed    float64       // simulated seconds per real second; default 1
	Start    int64         // simulated start, UTC ms; default now, truncated to the minute
	History  time.Duration // trades generated before Start, for REST backfill; default 6h
	BinDelay time.Duration // simulated delay before a BitMEX bin is published; default 15s
	// Resume gives instruments, by venue:symbol, a time and their price
	// then: a simulation that goes on where a stored one stopped.
	Resume map[string]Anchor
	Logger *slog.Logger
}

// Anchor is a time (UTC ms) and an instrument's price then (Config.Resume).
type Anchor struct {
	At    int64
	Price market.Decimal
}

// Server is the simulator: instruments, clock, faults, admin API, and the
// routes of the mounted venue front-ends.
type Server struct {
	Clock  *Clock
	Faults *Faults
	Log    *slog.Logger
	cfg    Config
	mu     sync.Mutex
	inst   map[string]*Instrument
	mux    *http.ServeMux
}

// New creates a simulator.
func New(cfg Config) *Server {
	if cfg.Start == 0 {
		cfg.Start = market.I1m.Truncate(time.Now().UnixMilli())
	}
	if cfg.History <= 0 {
		cfg.History = 6 * time.Hour
	}
	if cfg.BinDelay <= 0 {
		cfg.BinDelay = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	clock := NewClock(cfg.Start, cfg.Speed)
	s := &Server{Clock: clock, Faults: newFaults(clock), Log: cfg.Logger, cfg: cfg, inst: map[string]*Instrument{}, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /admin/trades", s.serveTrades)
	s.mux.HandleFunc("/admin/fault", s.serveFault)
	s.mux.HandleFunc("GET /admin/clock", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "{\"now\":%d,\"speed\":%g}\n", clock.Now(), clock.Speed())
	})
	return s
}

// BinDelay is the simulated delay before a BitMEX bin is published.
func (s *Server) BinDelay() time.Duration { return s.cfg.BinDelay }

// Listed is when instruments start trading (Start - History), UTC ms.
func (s *Server) Listed() int64 { return s.cfg.Start - s.cfg.History.Milliseconds() }

// Instrument returns the instrument of venue:symbol, creating it with spec
// on first use.
func (s *Server) Instrument(venue, symbol string, spec Spec) *Instrument {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := venue + ":" + symbol
	in := s.inst[k]
	if in == nil {
		in = newInstrument(s.cfg.Seed, venue, symbol, spec, s.Listed())
		if a, ok := s.cfg.Resume[k]; ok {
			in.anchor(a.At, a.Price)
		}
		s.inst[k] = in
	}
	return in
}

// Catalog is what a venue front-end lists as its instruments: the given
// well-known symbols, the synthetic ones name(0) to name(Synthetic-1)
// (what tests and benchmarks collect), and every instrument created on the
// venue, sorted.
func (s *Server) Catalog(venue string, known []string, name func(i int) string) []string {
	seen := map[string]bool{}
	for _, k := range known {
		seen[k] = true
	}
	for i := range Synthetic {
		seen[name(i)] = true
	}
	s.mu.Lock()
	for k := range s.inst {
		if v, sym, _ := strings.Cut(k, ":"); v == venue {
			seen[sym] = true
		}
	}
	s.mu.Unlock()
	return slices.Sorted(maps.Keys(seen))
}

// Synthetic is how many synthetic symbols each venue lists (C0 to C999,
// named as the venue names them).
const Synthetic = 1000

func (s *Server) lookup(venue, symbol string) *Instrument {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inst[venue+":"+symbol]
}

// Handle mounts a front-end route.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// TradeJSON is one line of /admin/trades.
type TradeJSON struct {
	Venue  string `json:"venue"`
	Symbol string `json:"symbol"`
	Seq    int64  `json:"seq"`
	Time   int64  `json:"time"`
	Price  string `json:"price"`
	Size   string `json:"size"`
	Quote  string `json:"quote"`
	First  int64  `json:"first"`
	Last   int64  `json:"last"`
	Buy    bool   `json:"buy"`
}

// serveTrades writes the trade log of one instrument as JSON lines:
// GET /admin/trades?venue=binance&symbol=BTCUSDT&from=MS&to=MS.
func (s *Server) serveTrades(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	venue, symbol := q.Get("venue"), strings.ToUpper(q.Get("symbol"))
	in := s.lookup(venue, symbol)
	if in == nil {
		http.Error(w, "unknown instrument "+venue+":"+symbol, http.StatusNotFound)
		return
	}
	from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
	to, err := strconv.ParseInt(q.Get("to"), 10, 64)
	if err != nil {
		to = s.Clock.Now()
	}
	in.Advance(min(to, s.Clock.Now()))
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, t := range in.Trades(from, to) {
		enc.Encode(TradeJSON{Venue: venue, Symbol: symbol, Seq: t.Seq, Time: t.Time, Price: in.Price(t.Price).String(), //nolint:errcheck // client went away
			Size: in.Size(t.Size).String(), Quote: in.Quote(t).String(), First: t.First, Last: t.Last, Buy: t.Buy})
	}
}

// serveFault injects a fault: /admin/fault?venue=binance&kind=drop&for=30s
// (for is simulated time).
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var d time.Duration
	if f := q.Get("for"); f != "" {
		var err error
		if d, err = time.ParseDuration(f); err != nil {
			http.Error(w, "bad duration: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if err := s.Faults.Inject(q.Get("venue"), q.Get("kind"), d); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.Log.Info("fault injected", "venue", q.Get("venue"), "kind", q.Get("kind"), "for", d)
	fmt.Fprintln(w, "ok")
}

// Scheduled is a fault to inject at a simulated offset from Start.
type Scheduled struct {
	Venue, Kind string
	At, For     time.Duration
}

// ParseScheduled parses venue:kind@at[+for], e.g. binance:drop@2m or
// bitmex:silence@5m+30s.
func ParseScheduled(s string) (Scheduled, error) {
	vk, when, ok := strings.Cut(s, "@")
	venue, kind, ok2 := strings.Cut(vk, ":")
	if !ok || !ok2 {
		return Scheduled{}, fmt.Errorf("fault %q: want venue:kind@at[+for], e.g. binance:drop@2m", s)
	}
	at, dur, _ := strings.Cut(when, "+")
	var sc = Scheduled{Venue: venue, Kind: kind}
	var err error
	if sc.At, err = time.ParseDuration(at); err != nil {
		return Scheduled{}, fmt.Errorf("fault %q: %w", s, err)
	}
	if dur != "" {
		if sc.For, err = time.ParseDuration(dur); err != nil {
			return Scheduled{}, fmt.Errorf("fault %q: %w", s, err)
		}
	}
	return sc, nil
}

// RunSchedule injects the scheduled faults at their simulated times until
// ctx ends.
func (s *Server) RunSchedule(ctx context.Context, faults []Scheduled) {
	faults = slices.Clone(faults)
	slices.SortFunc(faults, func(a, b Scheduled) int { return int(a.At - b.At) })
	for _, f := range faults {
		wait := s.cfg.Start + f.At.Milliseconds() - s.Clock.Now()
		if wait > 0 {
			t := time.NewTimer(s.Clock.Real(time.Duration(wait) * time.Millisecond))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if err := s.Faults.Inject(f.Venue, f.Kind, f.For); err != nil {
			s.Log.Warn("scheduled fault rejected", "err", err)
			continue
		}
		s.Log.Info("fault injected", "venue", f.Venue, "kind", f.Kind, "for", f.For)
	}
}
