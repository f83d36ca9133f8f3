package store

import (
	"context"
	"errors"
	"fmt"
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
	closed bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store. now stamps update times; nil means
// time.Now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, rows: map[series]map[int64]market.Candle{}}
}

var errClosed = errors.New("store is closed")

// Upsert implements Store.
func (s *Memory) Upsert(_ context.Context, cs []market.Candle) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, errClosed
	}
	staged := map[market.Key]market.Candle{}
	get := func(k market.Key) (*market.Candle, error) {
		if c, ok := staged[k]; ok {
			return &c, nil
		}
		if c, ok := s.rows[series{k.Market, k.Interval}][k.OpenTime]; ok {
			return &c, nil
		}
		return nil, nil
	}
	put := func(c market.Candle) error { staged[c.Key()] = c; return nil }
	r, err := Apply(cs, s.now(), get, put)
	if err != nil {
		return Result{}, err
	}
	for k, c := range staged {
		sr := series{k.Market, k.Interval}
		if s.rows[sr] == nil {
			s.rows[sr] = map[int64]market.Candle{}
		}
		s.rows[sr][k.OpenTime] = c
	}
	return r, nil
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

// Close implements Store.
func (s *Memory) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
