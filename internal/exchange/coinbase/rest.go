package coinbase

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// REST limits: Coinbase allows 10 public requests a second per IP (bursts
// of 15); candlewire spends half.
const (
	RequestsPerSecond = 5
	tradesPerPage     = 1000 // Coinbase's maximum page
	candlesPerRequest = 300  // Coinbase rejects a range that needs more
	// DefaultTradePages is how many pages of trades, newest first, a fetch
	// reads before it takes the older minutes from REST candles instead.
	DefaultTradePages = 60
)

// REST fetches 1m candles over Coinbase Exchange's REST API. Recent minutes
// are built from REST trades, exactly as the feed builds them from matches
// (quote volume and count included); minutes further back than TradePages
// pages of trades come from REST candles, which carry neither quote volume
// nor count (stored as 0). Coinbase publishes no row for a minute without
// trades: such a minute between known trades or rows is flat at the
// previous close.
type REST struct {
	Base       string // e.g. https://api.exchange.coinbase.com
	HTTP       *upstream.HTTP
	TradePages int // default DefaultTradePages
}

// Candles returns the final 1m candles with open time in [from, to),
// oldest first. The caller asks only for minutes that have ended.
func (r *REST) Candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error) {
	from = market.I1m.Truncate(from)
	back, err := r.tradesBack(ctx, m, from, to)
	if err != nil {
		return nil, err
	}
	var out []market.Candle
	start := from
	if !back.reached { // trades reach back only so far: candles before that
		start = max(from, back.covered)
		if out, err = r.candles(ctx, m, from, start, onPage); err != nil {
			return out, err
		}
		if len(out) > 0 {
			back.prev, back.havePrev = out[len(out)-1].Close, true
		}
	}
	out = append(out, build(m, back, start, to)...)
	if onPage != nil {
		onPage(to)
	}
	return out, nil
}

// tradeRun is what reading trades back from the newest found.
type tradeRun struct {
	trades   []market.Trade // with time in [covered, to), oldest first
	prev     market.Decimal // price of the last trade before the first minute built
	havePrev bool
	reached  bool  // the trades reach back before from (or to the first trade ever)
	covered  int64 // !reached: every trade at or after this minute was read
}

// tradesBack pages back through the product's trades from the newest
// until one is older than from, or TradePages pages were read.
func (r *REST) tradesBack(ctx context.Context, m market.Market, from, to int64) (tradeRun, error) {
	var run tradeRun
	var newestFirst []market.Trade
	after := ""
	for page := 0; page < cmp.Or(r.TradePages, DefaultTradePages); page++ {
		rows, cursor, err := r.tradesPage(ctx, m, after)
		if err != nil {
			return run, err
		}
		for _, t := range rows {
			if t.Time < from {
				run.prev, run.havePrev, run.reached = t.Price, true, true
				break
			}
			if t.Time < to {
				newestFirst = append(newestFirst, t)
			}
		}
		if run.reached || len(rows) == 0 || cursor == "" {
			run.reached = true // before the first trade ever, no minute has data
			break
		}
		run.covered, after = market.I1m.Truncate(rows[len(rows)-1].Time)+market.I1m.Millis(), cursor
	}
	slices.Reverse(newestFirst)
	run.trades = newestFirst
	if !run.reached { // the oldest minute read may be partial
		i, _ := slices.BinarySearchFunc(run.trades, run.covered, func(t market.Trade, at int64) int { return cmp.Compare(t.Time, at) })
		run.trades = run.trades[i:]
	}
	return run, nil
}

// tradesPage reads one page of trades older than the cursor after ("":
// the newest), newest first, and the cursor of the next older page.
func (r *REST) tradesPage(ctx context.Context, m market.Market, after string) ([]market.Trade, string, error) {
	q := url.Values{"limit": {strconv.Itoa(tradesPerPage)}}
	if after != "" {
		q.Set("after", after)
	}
	body, hdr, err := r.HTTP.Get(ctx, r.Base+"/products/"+url.PathEscape(m.Symbol)+"/trades?"+q.Encode(), 1)
	if err != nil {
		return nil, "", fmt.Errorf("fetch %s trades after %q: %w", m, after, err)
	}
	rows, err := DecodeTrades(m, body)
	if err != nil {
		return nil, "", err
	}
	return rows, nextCursor(hdr, rows), nil
}

// nextCursor is the CB-AFTER header, or the oldest trade id of the page.
func nextCursor(hdr http.Header, rows []market.Trade) string {
	if c := hdr.Get("CB-AFTER"); c != "" {
		return c
	}
	if len(rows) == 0 {
		return ""
	}
	return strconv.FormatInt(rows[len(rows)-1].LastSeq, 10)
}

// DecodeTrades decodes a /products/{id}/trades body: newest first.
func DecodeTrades(m market.Market, body []byte) ([]market.Trade, error) {
	var rows []struct {
		Time    string      `json:"time"`
		TradeID int64       `json:"trade_id"`
		Price   json.Number `json:"price"`
		Size    json.Number `json:"size"`
		Side    string      `json:"side"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("%w: %s trades: %v", ErrDecode, m, err)
	}
	out := make([]market.Trade, 0, len(rows))
	for _, row := range rows {
		t, err := Trade(m.Symbol, row.TradeID, string(row.Price), string(row.Size), row.Side, row.Time)
		if err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && t.LastSeq >= out[n-1].LastSeq {
			return nil, fmt.Errorf("%w: %s trades not newest first at %d", ErrDecode, m, t.LastSeq)
		}
		out = append(out, t)
	}
	return out, nil
}

// build makes the minutes in [from, to) from run's trades: a minute with
// trades from them, one without flat at the previous close when that is
// known.
func build(m market.Market, run tradeRun, from, to int64) []market.Candle {
	var out []market.Candle
	trades, close, have := run.trades, run.prev, run.havePrev
	for t := from; t < to; t += market.I1m.Millis() {
		var c *market.Candle
		for len(trades) > 0 && trades[0].Time < t+market.I1m.Millis() {
			tr := trades[0]
			trades = trades[1:]
			if tr.Time < t {
				continue
			}
			if c == nil {
				c = &market.Candle{Market: m, Interval: market.I1m, OpenTime: t, Open: tr.Price, High: tr.Price, Low: tr.Price,
					Volume: market.Zero, Quote: market.Zero, State: market.Reconciled, Source: market.SourceREST}
			}
			add(c, tr)
		}
		switch {
		case c != nil:
			out = append(out, *c)
			close, have = c.Close, true
		case have:
			out = append(out, market.Flat(m, t, close, market.SourceREST))
		}
	}
	return out
}

// candlesLookback is how far before a range the first candles request
// reaches, for the close that the range's leading empty minutes repeat.
const candlesLookback = 60 * 60_000

// candles reads REST candles for [from, to), candlesPerRequest minutes at
// a time, filling the minutes without a row flat at the previous row's
// close (found up to candlesLookback before from).
func (r *REST) candles(ctx context.Context, m market.Market, from, to int64, onPage func(upTo int64)) ([]market.Candle, error) {
	var out []market.Candle
	var last market.Candle // newest row so far; OpenTime 0: none
	next := from           // first minute not yet in out
	fill := func(upTo int64) {
		for ; last.OpenTime != 0 && next < upTo; next += market.I1m.Millis() {
			out = append(out, market.Flat(m, next, last.Close, market.SourceREST))
		}
	}
	for cursor := from - candlesLookback; cursor < to; {
		end := min(cursor+candlesPerRequest*market.I1m.Millis(), to)
		rows, err := r.candleWindow(ctx, m, cursor, end)
		if err != nil {
			return out, err
		}
		for _, c := range rows {
			if c.OpenTime >= from {
				fill(c.OpenTime)
				out, next = append(out, c), c.OpenTime+market.I1m.Millis()
			}
			last = c
		}
		cursor = end
		if onPage != nil && cursor > from {
			onPage(cursor)
		}
	}
	fill(to) // the minutes after the last row had no trades
	return out, nil
}

// candleWindow reads the rows with open time in [from, to), oldest first.
func (r *REST) candleWindow(ctx context.Context, m market.Market, from, to int64) ([]market.Candle, error) {
	q := url.Values{"granularity": {"60"}, "start": {rfc3339(from)}, "end": {rfc3339(to - market.I1m.Millis())}}
	body, _, err := r.HTTP.Get(ctx, r.Base+"/products/"+url.PathEscape(m.Symbol)+"/candles?"+q.Encode(), 1)
	var rows []market.Candle
	if err == nil {
		rows, err = DecodeCandles(m, body)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s candles from %s: %w", m, rfc3339(from), err)
	}
	in := rows[:0]
	for _, c := range rows {
		if c.OpenTime >= from && c.OpenTime < to {
			in = append(in, c)
		}
	}
	return in, nil
}

func rfc3339(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// DecodeCandles decodes a /products/{id}/candles body: rows [time, low,
// high, open, close, volume] (time in Unix seconds, the minute's start),
// newest first. It returns them oldest first, final, with no quote volume
// or count (Coinbase reports neither).
func DecodeCandles(m market.Market, body []byte) ([]market.Candle, error) {
	var rows [][]json.Number
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("%w: %s candles: %v", ErrDecode, m, err)
	}
	out := make([]market.Candle, 0, len(rows))
	for _, row := range rows {
		c, err := candleRow(m, row)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b market.Candle) int { return cmp.Compare(a.OpenTime, b.OpenTime) })
	for i := 1; i < len(out); i++ {
		if out[i].OpenTime == out[i-1].OpenTime {
			return nil, fmt.Errorf("%w: %s candles: minute %d twice", ErrDecode, m, out[i].OpenTime)
		}
	}
	return out, nil
}

func candleRow(m market.Market, row []json.Number) (market.Candle, error) {
	if len(row) != 6 {
		return market.Candle{}, fmt.Errorf("%w: %s candle row of %d fields, want 6", ErrDecode, m, len(row))
	}
	secs, err := row[0].Int64()
	if err != nil || secs <= 0 || secs%60 != 0 {
		return market.Candle{}, fmt.Errorf("%w: %s candle time %q", ErrDecode, m, row[0])
	}
	var v [5]market.Decimal // low high open close volume
	for i := range v {
		if v[i], err = market.ParseDecimal(string(row[i+1])); err != nil {
			return market.Candle{}, fmt.Errorf("%w: %s candle %d field %d: %v", ErrDecode, m, secs, i+1, err)
		}
	}
	c := market.Candle{Market: m, Interval: market.I1m, OpenTime: secs * 1000, Open: v[2], High: v[1], Low: v[0], Close: v[3],
		Volume: v[4], Quote: market.Zero, State: market.Reconciled, Source: market.SourceREST}
	if err := c.Validate(); err != nil {
		return market.Candle{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return c, nil
}
