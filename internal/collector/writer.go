package collector

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/metrics"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Publisher receives every stored change, in order.
type Publisher interface {
	Publish(cs []market.Candle) int
}

// Writer conflates candle versions by bin and stores them in batches. Its
// queue is bounded by the number of distinct bins; when a stalled store lets
// it reach MaxPending, Put blocks (backpressure) instead of dropping data.
type Writer struct {
	st         store.Store
	pub        Publisher
	log        *slog.Logger
	met        *metrics.Metrics
	every      time.Duration
	hold       time.Duration // forming bins are written at most once a hold (HoldForming)
	maxPending int

	mu       sync.Mutex
	room     *sync.Cond
	draining bool // shutting down: Put no longer waits for room
	pending  map[market.Key]market.Candle
	wake     chan struct{}
	flushMu  sync.Mutex // one flush at a time
	// shown holds when each forming bin's last version was written; each
	// successful write forgets the bins whose hold is over. flushMu
	// guards it.
	shown map[market.Key]time.Time

	finalMu sync.Mutex
	finals  map[market.Market]int64 // open time of each market's newest final 1m bin stored
}

// NewWriter returns a writer that flushes every `every` (default 100ms).
func NewWriter(st store.Store, pub Publisher, log *slog.Logger, met *metrics.Metrics, every time.Duration) *Writer {
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	w := &Writer{st: st, pub: pub, log: log, met: met, every: every, maxPending: 100_000,
		pending: map[market.Key]market.Candle{}, wake: make(chan struct{}, 1), finals: map[market.Market]int64{},
		shown: map[market.Key]time.Time{}}
	w.room = sync.NewCond(&w.mu)
	return w
}

// Put queues candle versions. A newer version of a queued bin replaces it,
// unless the store's merge would refuse it after the queued one (earlier
// in the lifecycle, or a forming 1m bin built from less of it): what is
// stored then does not depend on where the flushes fall.
func (w *Writer) Put(cs ...market.Candle) {
	if len(cs) == 0 {
		return
	}
	w.mu.Lock()
	for len(w.pending) >= w.maxPending && !w.draining {
		w.room.Wait()
	}
	for _, c := range cs {
		if old, ok := w.pending[c.Key()]; ok {
			if _, o := market.Merge(&old, c); o == market.Stale {
				continue // the store would refuse it after old: so does the queue, whenever the flushes fall
			}
		}
		w.pending[c.Key()] = c
	}
	w.met.QueueDepth.Set(float64(len(w.pending)))
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// drain stops Put from waiting for room, so feeds can finish on shutdown
// even when the store is stalled; the final flush takes what they queued.
func (w *Writer) drain() {
	w.mu.Lock()
	w.draining = true
	w.room.Broadcast()
	w.mu.Unlock()
}

// Run flushes until ctx ends, then flushes what is left; it returns the
// final flush's error (a failed periodic flush is logged and retried).
func (w *Writer) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			err := w.Flush(fctx)
			if err != nil {
				w.log.Error("final flush failed; unsaved candles will be refilled by gap repair", "err", err)
			}
			return err
		case <-t.C:
		case <-w.wake:
			// Let a burst accumulate for one period before writing.
			if err := upstream.Sleep(ctx, w.every); err != nil {
				continue
			}
		}
		if err := w.flush(ctx, false); err != nil && ctx.Err() == nil {
			w.log.Error("store write failed; will retry", "err", err)
		}
		t.Reset(w.every) // the next tick a period after this flush, not at once
	}
}

// HoldForming makes the writer's own flushes write a forming (provisional)
// bin at most once every d: a newer version queued within d of the last
// one written waits in the queue, where later ones replace it, so a busy
// market costs the store one write of its bin and rollups a period, not
// one a flush. A bin's first version, and every closed or final one, go
// out with the next flush. Call it before Run; d of one flush period or
// less holds nothing.
func (w *Writer) HoldForming(d time.Duration) {
	w.hold = d
	if d <= w.every {
		w.hold = 0
	}
}

// Flush stores everything queued, held forming bins too. On failure the
// batch is queued again.
func (w *Writer) Flush(ctx context.Context) error { return w.flush(ctx, true) }

// FlushDue stores everything queued but forming bins held back
// (HoldForming): a repair's flush, which needs the closed and final
// versions queued, not the forming ones.
func (w *Writer) FlushDue(ctx context.Context) error { return w.flush(ctx, false) }

// flush stores what is queued: all of it, or all but the forming bins
// written less than a hold ago.
func (w *Writer) flush(ctx context.Context, all bool) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	now := time.Now()
	w.mu.Lock()
	batch := make([]market.Candle, 0, len(w.pending))
	for k, c := range w.pending {
		if !all && w.waits(k, c, now) {
			continue
		}
		batch = append(batch, c)
		delete(w.pending, k)
	}
	w.room.Broadcast()
	w.met.QueueDepth.Set(float64(len(w.pending)))
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := w.write(ctx, batch); err != nil {
		w.requeue(batch)
		return err
	}
	w.wrote(batch, now)
	return nil
}

// waits says whether the queued version c of bin k waits for its hold: a
// forming bin whose last version was written less than a hold ago.
func (w *Writer) waits(k market.Key, c market.Candle, now time.Time) bool {
	if w.hold == 0 || c.State != market.Provisional {
		return false
	}
	at, ok := w.shown[k]
	return ok && now.Sub(at) < w.hold
}

// wrote notes when the forming bins of a stored batch were written, and
// forgets bins whose hold is over or that are forming no more.
func (w *Writer) wrote(batch []market.Candle, now time.Time) {
	if w.hold == 0 {
		return
	}
	for k, at := range w.shown {
		if now.Sub(at) >= w.hold {
			delete(w.shown, k)
		}
	}
	for _, c := range batch {
		if c.State == market.Provisional {
			w.shown[c.Key()] = now
		} else {
			delete(w.shown, c.Key())
		}
	}
}

// requeue queues a failed batch again. A version Put while it was being
// written is newer and stays, as Put would have kept it after the batch's,
// unless the store would refuse it after the batch's (a final is not
// given up for a trade-built version, nor a forming bin for one built
// from less of it).
func (w *Writer) requeue(batch []market.Candle) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range batch {
		if newer, ok := w.pending[c.Key()]; ok {
			if _, o := market.Merge(&c, newer); o != market.Stale {
				continue
			}
		}
		w.pending[c.Key()] = c
	}
	w.met.QueueDepth.Set(float64(len(w.pending)))
}

// WriteNow stores cs at once (with rollups) and publishes the changes.
func (w *Writer) WriteNow(ctx context.Context, cs []market.Candle) (store.Result, error) {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	return w.writeResult(ctx, cs)
}

func (w *Writer) write(ctx context.Context, batch []market.Candle) error {
	_, err := w.writeResult(ctx, batch)
	return err
}

// writeResult stores the batch and its rollups in one transaction, then
// publishes every change.
func (w *Writer) writeResult(ctx context.Context, batch []market.Candle) (store.Result, error) {
	slices.SortFunc(batch, compareCandles)
	start := time.Now()
	res, rres, err := w.st.Write(ctx, batch, rollup)
	w.met.StoreWrite.Observe(time.Since(start).Seconds())
	if err != nil {
		w.met.StoreErrors.Inc()
		return res, err
	}
	w.account(res)
	w.account(rres)
	w.publish(append(res.Changed, rres.Changed...))
	return res, nil
}

// rollup derives the coarser bins of changed candles (store.Derive).
func rollup(ctx context.Context, r store.Reader, changed []market.Candle) ([]market.Candle, error) {
	return candle.Rollup(ctx, r, changed)
}

func (w *Writer) publish(changed []market.Candle) {
	if w.pub != nil && len(changed) > 0 {
		if n := w.pub.Publish(changed); n > 0 {
			w.met.Drops.WithLabelValues("hub", "slow-subscriber").Add(float64(n))
		}
	}
}

// Reroll rebuilds the coarser bins of stored candles whose rollup may be
// stale (store.Store.Unrolled) and stores what changed, in one
// transaction. It returns how many coarser bins were wrong.
func (w *Writer) Reroll(ctx context.Context, cs []market.Candle) (int, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	_, res, err := w.st.Write(ctx, cs, func(ctx context.Context, r store.Reader, _ []market.Candle) ([]market.Candle, error) {
		return candle.Rollup(ctx, r, cs)
	})
	if err != nil {
		return 0, fmt.Errorf("rebuild the rollups of %d candles: %w", len(cs), err)
	}
	w.account(res)
	w.publish(res.Changed)
	return len(res.Changed), nil
}

func (w *Writer) account(r store.Result) {
	w.newestFinals(r.Changed)
	w.met.CandleWrites.WithLabelValues("changed").Add(float64(len(r.Changed)))
	w.met.CandleWrites.WithLabelValues("unchanged").Add(float64(r.Unchanged))
	w.met.CandleWrites.WithLabelValues("stale").Add(float64(r.Stale))
	w.met.CandleWrites.WithLabelValues("invalid").Add(float64(len(r.Invalid)))
	for _, err := range r.Invalid {
		w.log.Warn("candle rejected", "err", err)
	}
}

// newestFinals sets the time of each market's newest final 1m bin stored,
// when changed holds a newer one (a repair of older minutes is not news).
func (w *Writer) newestFinals(changed []market.Candle) {
	w.finalMu.Lock()
	defer w.finalMu.Unlock()
	var newer []market.Market
	for _, c := range changed {
		if c.Interval == market.I1m && c.Final() && c.OpenTime > w.finals[c.Market] {
			if !slices.Contains(newer, c.Market) {
				newer = append(newer, c.Market)
			}
			w.finals[c.Market] = c.OpenTime
		}
	}
	now := float64(time.Now().UnixMilli()) / 1e3
	for _, m := range newer {
		w.met.LastFinal.WithLabelValues(m.String()).Set(now)
	}
}

// compareCandles orders candles by market, interval width and open time
// (the store's key order), without building their markets' names.
func compareCandles(a, b market.Candle) int {
	return cmp.Or(cmp.Compare(a.Market.Venue, b.Market.Venue), cmp.Compare(a.Market.Symbol, b.Market.Symbol),
		cmp.Compare(a.Interval.Millis(), b.Interval.Millis()), cmp.Compare(a.OpenTime, b.OpenTime))
}
