package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// AddGap implements store.Store.
func (s *Store) AddGap(ctx context.Context, g store.Gap) (store.Gap, error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO gaps (venue, symbol, from_time, to_time, reason, status, filled, found_at,
		resolved_at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`, g.Market.Venue, g.Market.Symbol,
		g.From, g.To, g.Reason, string(g.Status), g.Filled, g.Found, g.Resolved, g.Detail).Scan(&g.ID)
	if err != nil {
		return g, fmt.Errorf("record gap %s [%d,%d): %w", g.Market, g.From, g.To, err)
	}
	return g, nil
}

// UpdateGap implements store.Store.
func (s *Store) UpdateGap(ctx context.Context, g store.Gap) error {
	tag, err := s.pool.Exec(ctx, `UPDATE gaps SET status=$1, filled=$2, resolved_at=$3, detail=$4 WHERE id=$5`,
		string(g.Status), g.Filled, g.Resolved, g.Detail, g.ID)
	if err != nil {
		return fmt.Errorf("update gap %d: %w", g.ID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("update gap %d: no such gap", g.ID)
	}
	return nil
}

// Gaps implements store.Store.
func (s *Store) Gaps(ctx context.Context, m market.Market, from, to int64) ([]store.Gap, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, venue, symbol, from_time, to_time, reason, status, filled, found_at,
		resolved_at, detail FROM gaps WHERE venue=$1 AND symbol=$2 AND to_time > $3 AND from_time < $4 ORDER BY id`,
		m.Venue, m.Symbol, from, to)
	if err != nil {
		return nil, fmt.Errorf("read gaps of %s: %w", m, err)
	}
	defer rows.Close()
	var out []store.Gap
	for rows.Next() {
		var g store.Gap
		var st string
		var filled int64
		if err := rows.Scan(&g.ID, &g.Market.Venue, &g.Market.Symbol, &g.From, &g.To, &g.Reason, &st, &filled,
			&g.Found, &g.Resolved, &g.Detail); err != nil {
			return nil, fmt.Errorf("read gaps of %s: %w", m, err)
		}
		g.Status, g.Filled = store.GapStatus(st), int(filled)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read gaps of %s: %w", m, err)
	}
	return out, nil
}

// AddConnect records a connect attempt (upstream.ConnectLog) and forgets
// the venue's attempts older than store.KeepConnects.
func (s *Store) AddConnect(ctx context.Context, venue string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO connects (venue, at) VALUES ($1, $2)`, venue, at.UnixMilli()); err != nil {
		return fmt.Errorf("record %s connect: %w", venue, err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM connects WHERE venue=$1 AND at < $2`, venue, at.Add(-store.KeepConnects).UnixMilli()); err != nil {
		return fmt.Errorf("forget old %s connects: %w", venue, err)
	}
	return nil
}

// Connects returns the venue's attempts at or after since, oldest first
// (upstream.ConnectLog).
func (s *Store) Connects(ctx context.Context, venue string, since time.Time) ([]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT at FROM connects WHERE venue=$1 AND at >= $2 ORDER BY at`, venue, since.UnixMilli())
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s connects: %w", venue, err)
	}
	return out, nil
}
