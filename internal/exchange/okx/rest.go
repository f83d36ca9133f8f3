package okx

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// REST limits. OKX allows 40 requests per 2 s on market/candles and 20 on
// history-candles (per IP); candlewire spends a quarter of the smaller.
const (
	RequestsPerSecond = 2.5
	pageRows          = 100 // rows per request on both endpoints
)

// REST fetches 1m candles over OKX's REST API.
type REST struct {
	Base string // e.g. https://www.okx.com
	HTTP *upstream.HTTP
}

// Candles returns the 1m candles with open time in [from, to), oldest
// first, in windows of 100 minutes: from market/candles, which holds the
// most recent minutes and the forming one, or from history-candles when a
// window is older than that. A row is Reconciled when OKX confirms it.
func (r *REST) Candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error) {
	var out []market.Candle
	for cursor := market.I1m.Truncate(from); cursor < to; {
		end := min(cursor+pageRows*market.I1m.Millis(), to)
		rows, err := r.window(ctx, m, "candles", cursor, end)
		if err == nil && len(rows) == 0 {
			rows, err = r.window(ctx, m, "history-candles", cursor, end)
		}
		if err != nil {
			return out, fmt.Errorf("fetch %s candles from %d: %w", m, cursor, err)
		}
		out = append(out, rows...)
		cursor = end
		if onPage != nil {
			onPage(cursor)
		}
	}
	return out, nil
}

// window asks one endpoint for the rows with open time in [from, to).
func (r *REST) window(ctx context.Context, m market.Market, endpoint string, from, to int64) ([]market.Candle, error) {
	q := url.Values{"instId": {m.Symbol}, "bar": {"1m"}, "before": {strconv.FormatInt(from-1, 10)},
		"after": {strconv.FormatInt(to, 10)}, "limit": {strconv.Itoa(pageRows)}}
	body, _, err := r.HTTP.Get(ctx, r.Base+"/api/v5/market/"+endpoint+"?"+q.Encode(), 1)
	if err != nil {
		return nil, err
	}
	return DecodeCandles(m.Symbol, body)
}

// DecodeCandles decodes a market/candles or history-candles body into
// candles, oldest first.
func DecodeCandles(instID string, body []byte) ([]market.Candle, error) {
	var resp struct {
		Code string     `json:"code"`
		Msg  string     `json:"msg"`
		Data [][]string `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: candles: %v", ErrDecode, err)
	}
	if resp.Code != "0" {
		return nil, fmt.Errorf("%w: candles: OKX error %s: %s", ErrDecode, resp.Code, resp.Msg)
	}
	out := make([]market.Candle, 0, len(resp.Data))
	for i, row := range resp.Data {
		c, err := CandleRow(instID, row, market.SourceREST)
		if err != nil {
			return nil, fmt.Errorf("candles row %d: %w", i, err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.OpenTime, b.OpenTime) })
	return out, nil
}
