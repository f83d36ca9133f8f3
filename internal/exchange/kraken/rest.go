package kraken

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

// RequestsPerSecond keeps well inside Kraken's public REST limit (about
// one call a second, with bursts).
const RequestsPerSecond = 0.5

// REST fetches 1m candles over Kraken's REST OHLC, which holds the 720
// most recent minutes only.
type REST struct {
	Base string // e.g. https://api.kraken.com
	HTTP *upstream.HTTP
}

// Candles returns the 1m candles with open time in [from, to), oldest
// first. Minutes older than Kraken's 720 are not returned (the repair
// records them as not filled).
func (r *REST) Candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error) {
	var out []market.Candle
	for cursor := market.I1m.Truncate(from); cursor < to; {
		q := url.Values{"pair": {RESTPair(m)}, "interval": {"1"}, "since": {strconv.FormatInt(cursor/1000-1, 10)}}
		body, _, err := r.HTTP.Get(ctx, r.Base+"/0/public/OHLC?"+q.Encode(), 1)
		var rows []market.Candle
		if err == nil {
			rows, err = DecodeOHLC(m, body)
		}
		if err != nil {
			return out, fmt.Errorf("fetch %s OHLC since %d: %w", m, cursor, err)
		}
		next := cursor
		for _, c := range rows {
			if c.OpenTime >= cursor && c.OpenTime < to {
				out = append(out, c)
				next = c.OpenTime + market.I1m.Millis()
			}
		}
		if next == cursor {
			break // nothing at or after cursor
		}
		cursor = next
		if onPage != nil {
			onPage(min(cursor, to))
		}
	}
	return out, nil
}

// DecodeOHLC decodes a /0/public/OHLC body: rows [time, open, high, low,
// close, vwap, volume, count], oldest first, the last one the current,
// uncommitted minute (Provisional).
func DecodeOHLC(m market.Market, body []byte) ([]market.Candle, error) {
	var resp struct {
		Error  []string                   `json:"error"`
		Result map[string]json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: OHLC: %v", ErrDecode, err)
	}
	if len(resp.Error) > 0 {
		return nil, fmt.Errorf("%w: OHLC: Kraken error %v", ErrDecode, resp.Error)
	}
	var rows [][]json.RawMessage
	for k, v := range resp.Result {
		if k != "last" {
			if err := json.Unmarshal(v, &rows); err != nil {
				return nil, fmt.Errorf("%w: OHLC %s: %v", ErrDecode, k, err)
			}
		}
	}
	out := make([]market.Candle, 0, len(rows))
	for i, row := range rows {
		c, err := ohlcRESTRow(m, row)
		if err != nil {
			return nil, fmt.Errorf("OHLC row %d: %w", i, err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.OpenTime, b.OpenTime) })
	for i := range out {
		if i < len(out)-1 {
			out[i].State = market.Reconciled
		}
	}
	return out, nil
}

func ohlcRESTRow(m market.Market, row []json.RawMessage) (market.Candle, error) {
	if len(row) != 8 {
		return market.Candle{}, fmt.Errorf("%w: %d fields, want 8", ErrDecode, len(row))
	}
	var secs, count int64
	var f [6]string // open high low close vwap volume
	targets := []any{&secs, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &count}
	for i, dst := range targets {
		if err := json.Unmarshal(row[i], dst); err != nil {
			return market.Candle{}, fmt.Errorf("%w: field %d: %v", ErrDecode, i, err)
		}
	}
	return Candle(Pair(m), secs*1000, [6]string{f[0], f[1], f[2], f[3], f[5], f[4]}, count, market.SourceREST)
}
