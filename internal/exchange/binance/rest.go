package binance

import (
	"context"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// klinesLimit is the most rows /api/v3/klines returns per request.
const klinesLimit = 1000

// klinesWeight is the request weight of /api/v3/klines.
const klinesWeight = 2

// REST fetches klines over Binance's REST API.
type REST struct {
	Base string // e.g. https://api.binance.com
	HTTP *upstream.HTTP
}

// Candles returns the 1m klines with open time in [from, to), paging 1000
// rows at a time. A kline is Reconciled when the venue's clock (the Date
// header) shows it is over, Provisional otherwise. onPage, if not nil, is
// told how far each page got.
func (r *REST) Candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error) {
	return upstream.Paginate(ctx, from, to, func(ctx context.Context, cursor int64) ([]market.Candle, error) {
		q := url.Values{"symbol": {m.Symbol}, "interval": {"1m"}, "startTime": {strconv.FormatInt(cursor, 10)},
			"endTime": {strconv.FormatInt(to-1, 10)}, "limit": {strconv.Itoa(klinesLimit)}}
		body, hdr, err := r.HTTP.Get(ctx, r.Base+"/api/v3/klines?"+q.Encode(), klinesWeight)
		if err == nil {
			var rows []market.Candle
			if rows, err = DecodeKlines(m, body, serverTime(hdr)); err == nil {
				return rows, nil
			}
		}
		return nil, fmt.Errorf("fetch %s klines from %d: %w", m, cursor, err)
	}, onPage)
}

// serverTime is the venue's clock from the Date header, in ms; 0 if absent.
func serverTime(h http.Header) int64 {
	t, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// DecodeKlines decodes a /api/v3/klines body. Rows whose bin is not over at
// serverNow (0: unknown, treat all as over) are Provisional.
func DecodeKlines(m market.Market, body []byte, serverNow int64) ([]market.Candle, error) {
	var rows [][]json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("%w: klines: %v", ErrDecode, err)
	}
	out := make([]market.Candle, 0, len(rows))
	for i, row := range rows {
		c, err := decodeKlineRow(m, row)
		if err != nil {
			return nil, fmt.Errorf("klines row %d: %w", i, err)
		}
		if serverNow == 0 || c.OpenTime+market.I1m.Millis() <= serverNow {
			c.State = market.Reconciled
		}
		out = append(out, c)
	}
	return out, nil
}

func decodeKlineRow(m market.Market, row []json.RawMessage) (market.Candle, error) {
	if len(row) < 9 {
		return market.Candle{}, fmt.Errorf("%w: %d fields, want at least 9", ErrDecode, len(row))
	}
	var open, closeT, n int64
	var f [6]string
	targets := []any{&open, &f[0], &f[1], &f[2], &f[3], &f[4], &closeT, &f[5], &n}
	for i, dst := range targets {
		if err := json.Unmarshal(row[i], dst); err != nil {
			return market.Candle{}, fmt.Errorf("%w: field %d: %v", ErrDecode, i, err)
		}
	}
	c, err := candleFrom(m.Symbol, open, closeT, f, n)
	if err != nil {
		return market.Candle{}, err
	}
	c.Source = market.SourceREST
	return c, nil
}

// DefaultWeightPerSecond is the REST weight candlewire spends per second: a
// fifth of Binance's 6000 per minute, leaving room for other programs on
// the same IP.
const DefaultWeightPerSecond = 20
