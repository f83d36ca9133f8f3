package collector

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/upstream"
)

// marketState is one market's engine and repair bookkeeping.
type marketState struct {
	mu      sync.Mutex
	eng     *candle.Engine
	first   int64  // first minute seen by this process; 0 before any event
	live    bool   // freshly (re)subscribed: the next event starts a repair
	down    bool   // the connection with its bins ended; Live not yet seen
	started bool   // Live was seen once: the next repair is a reconnect's
	reason  string // why the next repair runs
	pending int64  // newest minute of the first event (a run of trades) after a (re)subscribe; 0: none
	lastDue int64  // newest minute already checked for an overdue final
	stats   candle.Stats
}

// venueSink receives one venue's decoded frames (upstream.Sink).
type venueSink struct {
	v       Venue
	w       *Writer
	log     *slog.Logger
	met     *metrics.Metrics
	mkts    map[market.Market]*marketState // read-only after construction
	repairs chan repairReq
	trades  Trades // nil: none
}

var _ upstream.Sink = (*venueSink)(nil)

func newVenueSink(v Venue, w *Writer, log *slog.Logger, met *metrics.Metrics) *venueSink {
	s := &venueSink{v: v, w: w, log: log, met: met, mkts: map[market.Market]*marketState{},
		repairs: make(chan repairReq, 2*len(v.Markets)+1)}
	for _, m := range v.Markets {
		s.mkts[m] = &marketState{eng: candle.NewEngineWith(m, v.Bins)}
	}
	return s
}

var errUnconfigured = errors.New("market is not configured")

func (s *venueSink) Trades(ts []market.Trade) {
	for len(ts) > 0 {
		n := market.RunLen(ts)
		s.apply(ts[:n])
		ts = ts[n:]
	}
}

// apply applies trades of one market: one lock, and one version of the
// forming candle for them all.
func (s *venueSink) apply(run []market.Trade) {
	m := run[0].Market
	ms := s.mkts[m]
	if ms == nil {
		s.Skip(s.v.Name, "unconfigured-market", fmt.Errorf("%d trades of %s: %w", len(run), m, errUnconfigured))
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	out := ms.eng.Trades(run) // valid until the engine's next call, so put under the lock
	s.after(m, ms, out)
	s.w.Put(out...)
	if s.trades != nil {
		for _, t := range run {
			s.trades.PublishTrade(t)
		}
	}
}

// Trades receives live trades. PublishTrade must not block.
type Trades interface {
	PublishTrade(t market.Trade)
}

func (s *venueSink) Bin(c market.Candle) {
	ms := s.mkts[c.Market]
	if ms == nil {
		s.Skip(s.v.Name, "unconfigured-market", fmt.Errorf("a bin of %s: %w", c.Market, errUnconfigured))
		return
	}
	ms.mu.Lock()
	if c.State == market.Reconciled {
		lag := max(ms.eng.Now()-(c.OpenTime+market.I1m.Millis()), 0)
		s.met.BinLag.WithLabelValues(c.Market.String()).Set(float64(lag) / 1000)
	}
	out := ms.eng.Bin(c)
	s.after(c.Market, ms, out)
	s.w.Put(out...)
	ms.mu.Unlock()
}

// Live starts a repair after the first subscribe of a market (restart)
// and after every outage of the connection carrying its bins (reconnect,
// after Down). A Live without an outage of the bins (OKX's trade
// connection coming back) only marks the minute in progress as seen in
// part: no final was missed.
func (s *venueSink) Live(ms []market.Market) {
	for _, m := range ms {
		st := s.mkts[m]
		if st == nil {
			continue
		}
		st.mu.Lock()
		reason := "reconnect"
		if !st.started {
			reason, st.started = "restart", true
		}
		if reason == "restart" || st.down {
			if !st.live && st.pending == 0 {
				st.reason = reason // else an earlier outage's repair is still to run: keep its reason
			}
			st.live = true
		}
		st.down = false
		st.eng.Resync()
		st.mu.Unlock()
		s.log.Debug("subscribed", "market", m, "after", reason)
	}
}

func (s *venueSink) Down(ms []market.Market) {
	for _, m := range ms {
		if st := s.mkts[m]; st != nil {
			st.mu.Lock()
			st.down = true
			st.mu.Unlock()
		}
	}
}

func (s *venueSink) Skip(venue, reason string, err error) {
	s.met.DecodeErrors.WithLabelValues(venue, reason).Inc()
	s.log.Warn("frame skipped", "reason", reason, "err", err)
}

// after runs with ms.mu held after every event: it exports engine counters
// and asks for a repair after a (re)connect or when a final is overdue by
// exchange time.
func (s *venueSink) after(m market.Market, ms *marketState, out []market.Candle) {
	now := ms.eng.Now()
	if ms.first == 0 {
		ms.first = market.I1m.Truncate(now)
	}
	for _, c := range out {
		// A minute stored before the first event's (a venue's two
		// connections deliver out of step at a start) is the collector's
		// to make final too: the first repair covers it.
		if c.Interval == market.I1m && c.State != market.Reconciled && c.OpenTime < ms.first {
			ms.first = c.OpenTime
		}
	}
	st := ms.eng.Stats()
	if st != ms.stats {
		name := m.String()
		s.met.EngineCounters.WithLabelValues(name, "duplicate").Add(float64(st.Duplicates - ms.stats.Duplicates))
		s.met.EngineCounters.WithLabelValues(name, "late").Add(float64(st.LateTrades - ms.stats.LateTrades))
		s.met.EngineCounters.WithLabelValues(name, "seqgap").Add(float64(st.SeqGaps - ms.stats.SeqGaps))
		s.met.Corrections.WithLabelValues(name).Add(float64(st.Corrections - ms.stats.Corrections))
		ms.stats = st
	}
	s.requestRepair(m, ms, now)
}

// requestRepair asks for a repair, with ms.mu held. After a (re)subscribe
// it waits until the finals of every minute before the first event are due
// (the venue's grace after that minute), so one repair, and one ledger
// entry, covers the whole outage; otherwise it asks whenever a minute's
// final is overdue.
func (s *venueSink) requestRepair(m market.Market, ms *marketState, now int64) {
	if ms.down {
		return // the repair after the outage covers it
	}
	due := market.I1m.Truncate(now - market.I1m.Millis() - s.v.FinalGrace.Milliseconds())
	upTo := due + market.I1m.Millis()
	if ms.live {
		ms.live, ms.pending = false, market.I1m.Truncate(now)
	}
	var req repairReq
	switch {
	case ms.pending != 0:
		need := ms.pending // the outage's last finals may still arrive
		if s.v.TradesOnly {
			need += market.I1m.Millis() // and the joined minute is the outage's
		}
		if upTo < need {
			return
		}
		req = repairReq{m: m, reason: ms.reason, upTo: upTo, first: ms.first}
	case due > ms.lastDue && ms.lastDue != 0:
		req = repairReq{m: m, reason: "overdue", upTo: upTo, first: ms.first}
	default:
		if ms.lastDue == 0 {
			ms.lastDue = due
		}
		return
	}
	req.asked = time.Now()
	select {
	case s.repairs <- req:
		ms.pending, ms.lastDue = 0, max(due, ms.lastDue)
	default: // the worker is busy; the next event asks again
	}
}

// defaultGrace is how long after a bin's end, in exchange time, its final
// value may take before it counts as overdue.
const defaultGrace = 10 * time.Second
