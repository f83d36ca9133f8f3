package bitmex

import (
	"errors"
	"fmt"
	"time"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/market"
)

type tradeRow struct {
	Timestamp       string      `json:"timestamp"`
	Symbol          string      `json:"symbol"`
	Side            string      `json:"side"`
	Size            json.Number `json:"size"`
	Price           json.Number `json:"price"`
	TrdMatchID      string      `json:"trdMatchID"`
	ForeignNotional json.Number `json:"foreignNotional"`
	Pool            string      `json:"pool"`
}

type binRow struct {
	Timestamp       string      `json:"timestamp"`
	Symbol          string      `json:"symbol"`
	Open            json.Number `json:"open"`
	High            json.Number `json:"high"`
	Low             json.Number `json:"low"`
	Close           json.Number `json:"close"`
	Trades          json.Number `json:"trades"`
	Volume          json.Number `json:"volume"`
	ForeignNotional json.Number `json:"foreignNotional"`
	Pool            string      `json:"pool"`
}

// ownPool reports whether a row belongs to the aggregated book (rows
// without a pool predate the 2026 pool field).
func ownPool(p string) bool { return p == "" || p == "Aggregated" }

func parseTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

// num parses an optional JSON number; absent or null gives def.
func num(n json.Number, def market.Decimal) (market.Decimal, error) {
	if n == "" {
		return def, nil
	}
	return market.ParseDecimal(string(n))
}

func decodeTrades(data json.RawMessage) ([]market.Trade, int, error) {
	var rows []tradeRow
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, 0, fmt.Errorf("%w: trade rows: %v", ErrDecode, err)
	}
	out := make([]market.Trade, 0, len(rows))
	skipped := 0
	for _, r := range rows {
		t, err := tradeFrom(r)
		if err != nil || !ownPool(r.Pool) {
			skipped++ // index pseudo-trades (size 0), other pools, broken rows
			continue
		}
		out = append(out, t)
	}
	return out, skipped, nil
}

func tradeFrom(r tradeRow) (market.Trade, error) {
	ts, err := parseTime(r.Timestamp)
	if err != nil || r.Symbol == "" {
		return market.Trade{}, fmt.Errorf("%w: trade %s: bad timestamp or symbol", ErrDecode, r.TrdMatchID)
	}
	price, err1 := market.ParseDecimal(string(r.Price))
	size, err2 := market.ParseDecimal(string(r.Size))
	quote, err3 := num(r.ForeignNotional, market.Zero)
	if err := errors.Join(err1, err2, err3); err != nil {
		return market.Trade{}, fmt.Errorf("%w: trade %s: %v", ErrDecode, r.TrdMatchID, err)
	}
	if price.Sign() <= 0 || size.Sign() <= 0 {
		return market.Trade{}, fmt.Errorf("%w: trade %s: non-positive price or size", ErrDecode, r.TrdMatchID)
	}
	return market.Trade{Market: market.Market{Venue: Venue, Symbol: r.Symbol}, Time: ts,
		Price: price, Size: size, Quote: quote, Buy: r.Side == "Buy"}, nil
}

func decodeBins(data json.RawMessage, iv market.Interval, src market.Source) ([]market.Candle, int, error) {
	var rows []binRow
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, 0, fmt.Errorf("%w: bin rows: %v", ErrDecode, err)
	}
	out := make([]market.Candle, 0, len(rows))
	skipped := 0
	for _, r := range rows {
		c, err := binFrom(r, iv, src)
		if err != nil || !ownPool(r.Pool) {
			skipped++
			continue
		}
		out = append(out, c)
	}
	return out, skipped, nil
}

// binFrom converts a row stamped with its bin's end to a candle keyed by
// its open time.
func binFrom(r binRow, iv market.Interval, src market.Source) (market.Candle, error) {
	end, err := parseTime(r.Timestamp)
	if err != nil || r.Symbol == "" {
		return market.Candle{}, fmt.Errorf("%w: bin %q: bad timestamp or symbol", ErrDecode, r.Timestamp)
	}
	var v [7]market.Decimal
	for i, n := range []json.Number{r.Open, r.High, r.Low, r.Close, r.Volume, r.ForeignNotional, r.Trades} {
		if n == "" && i < 4 {
			return market.Candle{}, fmt.Errorf("%w: bin %s %s: no prices", ErrDecode, r.Symbol, r.Timestamp)
		}
		if v[i], err = num(n, market.Zero); err != nil {
			return market.Candle{}, fmt.Errorf("%w: bin %s %s: %v", ErrDecode, r.Symbol, r.Timestamp, err)
		}
	}
	trades, err := v[6].Int64()
	if err != nil {
		return market.Candle{}, fmt.Errorf("%w: bin %s %s: trades: %v", ErrDecode, r.Symbol, r.Timestamp, err)
	}
	c := market.Candle{Market: market.Market{Venue: Venue, Symbol: r.Symbol}, Interval: iv, OpenTime: end - iv.Millis(),
		Open: v[0], High: v[1], Low: v[2], Close: v[3], Volume: v[4], Quote: v[5], Trades: trades,
		State: market.Reconciled, Source: src}
	if err := c.Validate(); err != nil {
		return market.Candle{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return c, nil
}

// DecodeBuckets decodes a /api/v1/trade/bucketed response.
func DecodeBuckets(body []byte, iv market.Interval) ([]market.Candle, error) {
	cs, skipped, err := decodeBins(body, iv, market.SourceREST)
	if err != nil {
		return nil, err
	}
	if skipped > 0 {
		return cs, fmt.Errorf("%w: %d bucket rows unreadable", ErrDecode, skipped)
	}
	return cs, nil
}
