package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
)

// seriesIDWhere selects a series' bins by its venue, symbol and interval
// (three parameters): one seek of the series table. Rows are keyed by
// series number (migration 7); a number is given on a series' first write
// and kept for good, so the writer remembers them. A number given in a
// transaction that rolls back is forgotten with it.
const seriesIDWhere = `series = (SELECT id FROM series WHERE venue = ? AND symbol = ? AND interval = ?)`

// seriesID is sr's number. A market's first write numbers all its
// intervals at once, finest first, so that its series are neighbours in
// the bins' B-tree, as they were when keyed by name: a flush that changes
// a market's minute and its coarser bins then dirties few pages (each one
// a WAL frame at commit).
func (w *writeTx) seriesID(ctx context.Context, sr market.Series) (int64, error) {
	if id, ok := w.s.ids[sr]; ok {
		return id, nil
	}
	if id, ok := w.newIDs[sr]; ok {
		return id, nil
	}
	if err := w.numberMarket(ctx, sr); err != nil {
		return 0, fmt.Errorf("number the series of %s: %w", sr.Market, err)
	}
	id, ok := w.newIDs[sr]
	if !ok {
		return 0, fmt.Errorf("number the series of %s: %s not found after it was added", sr.Market, sr)
	}
	return id, nil
}

// numberMarket numbers every interval of sr's market (and sr's own) that
// has no number yet, and reads all of the market's numbers into newIDs.
func (w *writeTx) numberMarket(ctx context.Context, sr market.Series) error {
	m, ivs := sr.Market, market.Intervals
	if !slices.Contains(ivs, sr.Interval) {
		ivs = append(slices.Clip(ivs), sr.Interval)
	}
	args := make([]any, 0, 3*len(ivs))
	for _, iv := range ivs {
		args = append(args, m.Venue, m.Symbol, string(iv))
	}
	q := `INSERT INTO series (venue, symbol, interval) VALUES (?, ?, ?)` + strings.Repeat(`, (?, ?, ?)`, len(ivs)-1) + ` ON CONFLICT DO NOTHING`
	if _, err := w.tx.ExecContext(ctx, q, args...); err != nil {
		return err
	}
	rows, err := w.tx.QueryContext(ctx, `SELECT interval, id FROM series WHERE venue = ? AND symbol = ?`, m.Venue, m.Symbol)
	if err != nil {
		return err
	}
	defer rows.Close()
	if w.newIDs == nil {
		w.newIDs = map[market.Series]int64{}
	}
	for rows.Next() {
		var iv string
		var id int64
		if err := rows.Scan(&iv, &id); err != nil {
			return err
		}
		w.newIDs[market.Series{Market: m, Interval: market.Interval(iv)}] = id
	}
	return rows.Err()
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
