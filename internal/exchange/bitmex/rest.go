package bitmex

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexwire"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// bucketLimit is the most rows /trade/bucketed returns per request.
const bucketLimit = 1000

// RequestsPerSecond is the unauthenticated REST limit: 30 per minute.
const RequestsPerSecond = 0.5

// REST fetches bins over the BitMEX REST API.
type REST struct {
	Base string // e.g. https://host; /api/v1/trade/bucketed is appended
	HTTP *upstream.HTTP
}

// Candles returns the 1m bins with open time in [from, to). BitMEX stamps
// bins with their end, so it asks for stamps in (from, to].
func (r *REST) Candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error) {
	step := market.I1m.Millis()
	return upstream.Paginate(ctx, from, to, func(ctx context.Context, cursor int64) ([]market.Candle, error) {
		q := url.Values{"binSize": {"1m"}, "symbol": {m.Symbol}, "partial": {"false"}, "reverse": {"false"},
			"count": {strconv.Itoa(bucketLimit)}, "startTime": {bitmexwire.Timestamp(cursor + step)}, "endTime": {bitmexwire.Timestamp(to)}}
		body, _, err := r.HTTP.Get(ctx, r.Base+"/api/v1/trade/bucketed?"+q.Encode(), 1)
		if err == nil {
			var rows []market.Candle
			if rows, err = DecodeBuckets(body, market.I1m); err == nil {
				return ownSymbol(rows, m.Symbol), nil
			}
		}
		return nil, fmt.Errorf("fetch %s bins from %s: %w", m, bitmexwire.Timestamp(cursor), err)
	}, onPage)
}

// ownSymbol keeps the rows of one symbol (a series name such as XBT can
// match several instruments).
func ownSymbol(rows []market.Candle, symbol string) []market.Candle {
	out := rows[:0]
	for _, c := range rows {
		if c.Market.Symbol == symbol {
			out = append(out, c)
		}
	}
	return out
}
