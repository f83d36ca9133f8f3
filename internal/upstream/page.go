package upstream

import (
	"context"
	"fmt"

	"github.com/candlewire/candlewire/internal/market"
)

// PageFunc fetches one page of 1m candles starting at open time cursor,
// oldest first. An empty page means the venue has nothing more before to.
type PageFunc func(ctx context.Context, cursor int64) ([]market.Candle, error)

// Paginate fetches the 1m candles with open time in [from, to) page by
// page, advancing past the last row of each page. It stops at to, at an
// empty page, or with an error when a venue does not advance. onPage, if not
// nil, is told how far each page got. What was fetched before an error is
// returned with it.
func Paginate(ctx context.Context, from, to int64, page PageFunc, onPage func(upTo int64)) ([]market.Candle, error) {
	var out []market.Candle
	for cursor := from; cursor < to; {
		rows, err := page(ctx, cursor)
		if err != nil {
			return out, err
		}
		if len(rows) == 0 {
			break
		}
		for _, c := range rows {
			if c.OpenTime >= cursor && c.OpenTime < to {
				out = append(out, c)
			}
		}
		next := rows[len(rows)-1].OpenTime + market.I1m.Millis()
		if next <= cursor {
			return out, fmt.Errorf("the venue did not advance past %d", cursor)
		}
		cursor = next
		if onPage != nil {
			onPage(min(cursor, to))
		}
	}
	return out, nil
}
