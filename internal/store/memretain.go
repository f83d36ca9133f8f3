package store

import (
	"context"
	"slices"

	"github.com/candlewire/candlewire/internal/market"
)

// Series lists the stored series, in venue, symbol and interval order.
func (s *Memory) Series(_ context.Context) ([]market.Series, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]market.Series, 0, len(s.rows))
	for k, rows := range s.rows {
		if len(rows) > 0 {
			out = append(out, market.Series{Market: k.m, Interval: k.iv})
		}
	}
	slices.SortFunc(out, market.Series.Compare)
	return out, nil
}

// DeleteBefore deletes at most limit bins of sr that opened before
// before, oldest first (retention).
func (s *Memory) DeleteBefore(_ context.Context, sr market.Series, before int64, limit int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.rows[series{sr.Market, sr.Interval}]
	var old []int64
	for t := range rows {
		if t < before {
			old = append(old, t)
		}
	}
	slices.Sort(old)
	old = old[:min(len(old), limit)]
	for _, t := range old {
		delete(rows, t)
	}
	return int64(len(old)), nil
}
