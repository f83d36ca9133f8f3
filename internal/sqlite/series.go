package sqlite

import (
	"context"
	"fmt"

	"github.com/candlewire/candlewire/internal/market"
)

// Rows are keyed by series number (migration 7): a series' number is
// given on its first write and kept for good, so the writer remembers
// them. A number given in a transaction that rolls back is forgotten
// with it.

const (
	addSeriesSQL  = `INSERT INTO series (venue, symbol, interval) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	seriesIDSQL   = `SELECT id FROM series WHERE venue = ? AND symbol = ? AND interval = ?`
	seriesIDWhere = `series = (` + seriesIDSQL + `)`
)

// seriesID is sr's number, given now when sr has none.
func (w *writeTx) seriesID(ctx context.Context, sr market.Series) (int64, error) {
	if id, ok := w.s.ids[sr]; ok {
		return id, nil
	}
	if id, ok := w.newIDs[sr]; ok {
		return id, nil
	}
	args := []any{sr.Market.Venue, sr.Market.Symbol, string(sr.Interval)}
	if _, err := w.tx.ExecContext(ctx, addSeriesSQL, args...); err != nil {
		return 0, fmt.Errorf("number series %s: %w", sr, err)
	}
	var id int64
	if err := w.tx.QueryRowContext(ctx, seriesIDSQL, args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("number series %s: %w", sr, err)
	}
	if w.newIDs == nil {
		w.newIDs = map[market.Series]int64{}
	}
	w.newIDs[sr] = id
	return id, nil
}

// keepIDs remembers the numbers a committed transaction gave.
func (w *writeTx) keepIDs() {
	if w.s.ids == nil {
		w.s.ids = map[market.Series]int64{}
	}
	for sr, id := range w.newIDs {
		w.s.ids[sr] = id
	}
}
