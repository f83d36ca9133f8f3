package postgres

import (
	"context"
	"fmt"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// Import stores candles copied from another store as they are, revision
// included (candlewire migrate), under the head lock like any write: a
// bin is written only when this store does not have it, and gets the next
// sequence number. A bin both have keeps this store's version: revisions
// of two stores do not compare (a file's twentieth provisional revision
// is not newer than a final here). It returns how many were written;
// copying the same candles again writes none.
func (s *Store) Import(ctx context.Context, cs []market.Candle) (int, error) {
	var n int
	err := s.locked(ctx, s.now(), nil, func(b *batch) error {
		if err := b.lock(ctx); err != nil {
			return err
		}
		have, err := b.stored(ctx, cs)
		if err != nil {
			return err
		}
		pw := newPending(len(cs))
		for _, c := range cs {
			if have[c.Key()] != nil {
				continue
			}
			b.seq++
			c.Seq = b.seq
			have[c.Key()] = &c
			pw.add(c, true)
		}
		n = len(pw.rows)
		b.added += n
		return pw.write(ctx, b.tx)
	})
	if err != nil {
		return 0, fmt.Errorf("import %d candles: %w", len(cs), err)
	}
	return n, nil
}

// ImportGaps stores ledger entries copied from another store; origin
// names that store, so that copying again updates an entry (its status may
// have moved on) instead of adding it twice. It returns how many were
// added or changed.
func (s *Store) ImportGaps(ctx context.Context, origin string, gs []store.Gap) (int, error) {
	n := 0
	for _, g := range gs {
		tag, err := s.pool.Exec(ctx, `INSERT INTO gaps AS g (venue, symbol, from_time, to_time, reason, status, filled, found_at,
			resolved_at, detail, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (origin) DO UPDATE SET status = excluded.status, filled = excluded.filled,
				resolved_at = excluded.resolved_at, detail = excluded.detail
			WHERE (g.status, g.filled, g.resolved_at, g.detail) IS DISTINCT FROM
				(excluded.status, excluded.filled, excluded.resolved_at, excluded.detail)`,
			g.Market.Venue, g.Market.Symbol, g.From, g.To, g.Reason, string(g.Status), g.Filled, g.Found, g.Resolved, g.Detail,
			fmt.Sprintf("%s#%d", origin, g.ID))
		if err != nil {
			return n, fmt.Errorf("import gap %d of %s: %w", g.ID, g.Market, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// ImportConnects stores connect attempts copied from another store, each
// once. It returns how many were added.
func (s *Store) ImportConnects(ctx context.Context, cs []store.Connect) (int, error) {
	venues, ats := make([]string, len(cs)), make([]int64, len(cs))
	for i, c := range cs {
		venues[i], ats[i] = c.Venue, c.At.UnixMilli()
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO connects (venue, at)
		SELECT DISTINCT v, a FROM unnest($1::text[], $2::bigint[]) AS u(v, a)
		WHERE a >= $3 AND NOT EXISTS (SELECT 1 FROM connects c WHERE c.venue = u.v AND c.at = u.a)`,
		venues, ats, s.now().Add(-store.KeepConnects).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("import %d connects: %w", len(cs), err)
	}
	return int(tag.RowsAffected()), nil
}
