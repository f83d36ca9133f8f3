package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

type series struct {
	m  market.Market
	iv market.Interval
}

// Memory is an in-memory Store, the default for tests and for `watch`
// without a database. The zero value is not usable; call NewMemory.
type Memory struct {
	now    func() time.Time
	mu     sync.RWMutex
	rows   map[series]map[int64]market.Candle
	gaps   []Gap
	conns  map[string][]time.Time // connect attempts per venue, oldest first
	seq    int64                  // newest sequence number
	epoch  int64
	closed bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store. now stamps update times; nil means
// time.Now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	e := NewEpoch(0)
	return &Memory{now: now, rows: map[series]map[int64]market.Candle{}, epoch: e, seq: e << EpochShift}
}

var errClosed = errors.New("store is closed")

// Upsert implements Store.
func (s *Memory) Upsert(ctx context.Context, cs []market.Candle) (Result, error) {
	r, _, err := s.Write(ctx, cs, nil)
	return r, err
}

// Write implements Store: the batch and what derive returns are staged,
// then kept together, or not at all.
func (s *Memory) Write(ctx context.Context, cs []market.Candle, derive Derive) (res, derived Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, Result{}, errClosed
	}
	tx := &memTx{s: s, staged: map[market.Key]market.Candle{}}
	seq, now := s.seq, s.now()
	if res, err = Apply(cs, now, &seq, tx.get, tx.put); err != nil {
		return Result{}, Result{}, err
	}
	if derive != nil {
		more, err := derive(ctx, tx, res.Changed)
		if err != nil {
			return Result{}, Result{}, fmt.Errorf("derive from %d changed candles: %w", len(res.Changed), err)
		}
		if derived, err = Apply(more, now, &seq, tx.get, tx.put); err != nil {
			return Result{}, Result{}, err
		}
	}
	s.seq = seq
	tx.commit()
	return res, derived, nil
}

// memTx is one Write's staged rows over the stored ones; s.mu is held.
type memTx struct {
	s      *Memory
	staged map[market.Key]market.Candle
}

func (tx *memTx) get(k market.Key) (*market.Candle, error) {
	if c, ok := tx.staged[k]; ok {
		return &c, nil
	}
	if c, ok := tx.s.rows[series{k.Market, k.Interval}][k.OpenTime]; ok {
		return &c, nil
	}
	return nil, nil
}

func (tx *memTx) put(c market.Candle) error { tx.staged[c.Key()] = c; return nil }

// Candles reads [from, to) with the staged rows in place (store.Reader).
func (tx *memTx) Candles(_ context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	byTime := map[int64]market.Candle{}
	for t, c := range tx.s.rows[series{m, iv}] {
		if t >= from && t < to {
			byTime[t] = c
		}
	}
	for k, c := range tx.staged {
		if k.Market == m && k.Interval == iv && k.OpenTime >= from && k.OpenTime < to {
			byTime[k.OpenTime] = c
		}
	}
	out := make([]market.Candle, 0, len(byTime))
	for _, c := range byTime {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.OpenTime, b.OpenTime) })
	return out, nil
}

func (tx *memTx) commit() {
	for k, c := range tx.staged {
		sr := series{k.Market, k.Interval}
		if tx.s.rows[sr] == nil {
			tx.s.rows[sr] = map[int64]market.Candle{}
		}
		tx.s.rows[sr][k.OpenTime] = c
	}
}

// Unrolled implements Store.
func (s *Memory) Unrolled(_ context.Context, m market.Market, from int64) ([]market.Candle, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []market.Candle
	for _, iv := range market.Intervals {
		for t, c := range s.rows[series{m, iv}] {
			if t >= from && s.unrolled(c) {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// unrolled says whether a parent of c is missing or older than c.
func (s *Memory) unrolled(c market.Candle) bool {
	for _, p := range c.Interval.Parents() {
		pc, ok := s.rows[series{c.Market, p}][p.Truncate(c.OpenTime)]
		if !ok || pc.Seq < c.Seq {
			return true
		}
	}
	return false
}

// Candles implements Store.
func (s *Memory) Candles(_ context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	var out []market.Candle
	for t, c := range s.rows[series{m, iv}] {
		if t >= from && t < to {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return int(a.OpenTime - b.OpenTime) })
	return out, nil
}

// Page implements Store.
func (s *Memory) Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error) {
	cs, err := s.Candles(ctx, m, iv, from, to)
	if len(cs) > limit {
		cs = cs[:limit]
	}
	return cs, err
}

// Since implements Store.
func (s *Memory) Since(_ context.Context, sers []market.Series, after int64, limit int) ([]market.Candle, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []market.Candle
	for _, sr := range sers {
		for _, c := range s.rows[series{sr.Market, sr.Interval}] {
			if c.Seq > after {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return int(a.Seq - b.Seq) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Latest implements Store.
func (s *Memory) Latest(ctx context.Context, m market.Market, iv market.Interval, n int) ([]market.Candle, error) {
	return s.Before(ctx, m, iv, math.MaxInt64, n)
}

// Before implements Store.
func (s *Memory) Before(ctx context.Context, m market.Market, iv market.Interval, to int64, n int) ([]market.Candle, error) {
	cs, err := s.Candles(ctx, m, iv, math.MinInt64, to)
	return cs[max(len(cs)-n, 0):], err
}

// Head implements Store.
func (s *Memory) Head(context.Context) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq, nil
}

// Changes returns at most limit candles whose current revision was stored
// after sequence number after, over every series, in sequence order
// (bus.Log).
func (s *Memory) Changes(_ context.Context, after int64, limit int) ([]market.Candle, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []market.Candle
	for _, rows := range s.rows {
		for _, c := range rows {
			if c.Seq > after {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.Seq, b.Seq) })
	return out[:min(len(out), limit)], nil
}

// Epoch implements Store: a new one for every memory store.
func (s *Memory) Epoch() int64 { return s.epoch }

// Window implements Store: a memory store keeps every change.
func (s *Memory) Window(ctx context.Context) (floor, head int64, err error) {
	head, err = s.Head(ctx)
	return 0, head, err
}

// LastReconciled implements Store.
func (s *Memory) LastReconciled(_ context.Context, m market.Market, iv market.Interval) (int64, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var last int64
	found := false
	for t, c := range s.rows[series{m, iv}] {
		if c.State == market.Reconciled && (!found || t > last) {
			last, found = t, true
		}
	}
	return last, found, nil
}

// AddGap implements Store.
func (s *Memory) AddGap(_ context.Context, g Gap) (Gap, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.ID = int64(len(s.gaps) + 1)
	s.gaps = append(s.gaps, g)
	return g, nil
}

// UpdateGap implements Store.
func (s *Memory) UpdateGap(_ context.Context, g Gap) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID < 1 || int(g.ID) > len(s.gaps) {
		return fmt.Errorf("update gap %d: no such gap", g.ID)
	}
	s.gaps[g.ID-1] = g
	return nil
}

// Gaps implements Store.
func (s *Memory) Gaps(_ context.Context, m market.Market, from, to int64) ([]Gap, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Gap
	for _, g := range s.gaps {
		if g.Market == m && g.To > from && g.From < to {
			out = append(out, g)
		}
	}
	return out, nil
}

// AddConnect records a connect attempt (upstream.ConnectLog).
func (s *Memory) AddConnect(_ context.Context, venue string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[string][]time.Time{}
	}
	s.conns[venue] = append(pruneConnects(s.conns[venue], at), at)
	return nil
}

// Connects returns the attempts at or after since (upstream.ConnectLog).
func (s *Memory) Connects(_ context.Context, venue string, since time.Time) ([]time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []time.Time
	for _, t := range s.conns[venue] {
		if !t.Before(since) {
			out = append(out, t)
		}
	}
	return out, nil
}

// KeepConnects is how long connect attempts are kept: longer than any
// venue's connect window.
const KeepConnects = 24 * time.Hour

func pruneConnects(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > KeepConnects {
		i++
	}
	return ts[i:]
}

// Close implements Store.
func (s *Memory) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
