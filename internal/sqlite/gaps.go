package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// AddGap implements store.Store.
func (s *Store) AddGap(ctx context.Context, g store.Gap) (store.Gap, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.db.ExecContext(ctx, `INSERT INTO gaps (venue, symbol, from_time, to_time, reason, status, filled,
		found_at, resolved_at, detail) VALUES (?,?,?,?,?,?,?,?,?,?)`, g.Market.Venue, g.Market.Symbol, g.From, g.To,
		g.Reason, string(g.Status), g.Filled, g.Found, g.Resolved, g.Detail)
	if err != nil {
		return g, fmt.Errorf("record gap %s [%d,%d): %w", g.Market, g.From, g.To, err)
	}
	if g.ID, err = res.LastInsertId(); err != nil {
		return g, fmt.Errorf("record gap %s: %w", g.Market, err)
	}
	return g, nil
}

// UpdateGap implements store.Store.
func (s *Store) UpdateGap(ctx context.Context, g store.Gap) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE gaps SET status=?, filled=?, resolved_at=?, detail=? WHERE id=?`,
		string(g.Status), g.Filled, g.Resolved, g.Detail, g.ID)
	if err != nil {
		return fmt.Errorf("update gap %d: %w", g.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("update gap %d: no such gap", g.ID)
	}
	return nil
}

// Gaps implements store.Store.
func (s *Store) Gaps(ctx context.Context, m market.Market, from, to int64) ([]store.Gap, error) {
	return s.gaps(ctx, m.String(), `venue=? AND symbol=? AND to_time > ? AND from_time < ?`, m.Venue, m.Symbol, from, to)
}

// gaps reads the ledger entries where holds, oldest first; what names
// them in errors.
func (s *Store) gaps(ctx context.Context, what, where string, args ...any) ([]store.Gap, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, venue, symbol, from_time, to_time, reason, status, filled,
		found_at, resolved_at, detail FROM gaps WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read gaps of %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Gap
	for rows.Next() {
		var g store.Gap
		var st string
		if err := rows.Scan(&g.ID, &g.Market.Venue, &g.Market.Symbol, &g.From, &g.To, &g.Reason, &st, &g.Filled,
			&g.Found, &g.Resolved, &g.Detail); err != nil {
			return nil, fmt.Errorf("read gaps of %s: %w", what, err)
		}
		g.Status = store.GapStatus(st)
		out = append(out, g)
	}
	return out, rows.Err()
}

// AddConnect records a connect attempt (upstream.ConnectLog) and forgets
// the venue's attempts older than store.KeepConnects.
func (s *Store) AddConnect(ctx context.Context, venue string, at time.Time) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO connects (venue, at) VALUES (?, ?)`, venue, at.UnixMilli()); err != nil {
		return fmt.Errorf("record %s connect: %w", venue, err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM connects WHERE venue=? AND at < ?`, venue, at.Add(-store.KeepConnects).UnixMilli()); err != nil {
		return fmt.Errorf("forget old %s connects: %w", venue, err)
	}
	return nil
}

// Connects returns the venue's attempts at or after since, oldest first
// (upstream.ConnectLog).
func (s *Store) Connects(ctx context.Context, venue string, since time.Time) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at FROM connects WHERE venue=? AND at >= ? ORDER BY at`, venue, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read %s connects: %w", venue, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			return nil, fmt.Errorf("read %s connects: %w", venue, err)
		}
		out = append(out, time.UnixMilli(ms))
	}
	return out, rows.Err()
}
