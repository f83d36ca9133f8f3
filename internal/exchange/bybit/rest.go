package bybit

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

// REST limits: Bybit allows 600 requests per 5 s per IP; candlewire spends
// far less.
const (
	RequestsPerSecond = 10
	pageRows          = 1000 // rows per /v5/market/kline request
)

// REST fetches spot 1m klines over Bybit's REST API.
type REST struct {
	Base string // e.g. https://api.bybit.com
	HTTP *upstream.HTTP
}

// Candles returns the 1m klines with open time in [from, to), oldest
// first, 1000 minutes per request. A kline is Reconciled when the
// response's server time shows it is over.
func (r *REST) Candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error) {
	var out []market.Candle
	for cursor := market.I1m.Truncate(from); cursor < to; {
		end := min(cursor+pageRows*market.I1m.Millis(), to)
		q := url.Values{"category": {"spot"}, "symbol": {m.Symbol}, "interval": {"1"}, "start": {strconv.FormatInt(cursor, 10)},
			"end": {strconv.FormatInt(end-1, 10)}, "limit": {strconv.Itoa(pageRows)}}
		body, _, err := r.HTTP.Get(ctx, r.Base+"/v5/market/kline?"+q.Encode(), 1)
		var rows []market.Candle
		if err == nil {
			rows, err = DecodeKlines(m.Symbol, body)
		}
		if err != nil {
			return out, fmt.Errorf("fetch %s klines from %d: %w", m, cursor, err)
		}
		for _, c := range rows {
			if c.OpenTime >= cursor && c.OpenTime < end {
				out = append(out, c)
			}
		}
		cursor = end
		if onPage != nil {
			onPage(cursor)
		}
	}
	return out, nil
}

// DecodeKlines decodes a /v5/market/kline body into candles, oldest first;
// rows not over at the response's time are Provisional.
func DecodeKlines(symbol string, body []byte) ([]market.Candle, error) {
	var resp struct {
		RetCode int    `json:"retCode"`
		RetMsg  string `json:"retMsg"`
		Result  struct {
			List [][]string `json:"list"`
		} `json:"result"`
		Time int64 `json:"time"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: klines: %v", ErrDecode, err)
	}
	if resp.RetCode != 0 {
		return nil, fmt.Errorf("%w: klines: Bybit error %d: %s", ErrDecode, resp.RetCode, resp.RetMsg)
	}
	out := make([]market.Candle, 0, len(resp.Result.List))
	for i, row := range resp.Result.List {
		c, err := restKline(symbol, row)
		if err != nil {
			return nil, fmt.Errorf("klines row %d: %w", i, err)
		}
		if resp.Time == 0 || c.OpenTime+market.I1m.Millis() <= resp.Time {
			c.State = market.Reconciled
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.OpenTime, b.OpenTime) })
	return out, nil
}
