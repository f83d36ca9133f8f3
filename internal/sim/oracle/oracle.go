package oracle

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// Convention says how a venue builds its bins from trades.
type Convention struct {
	OpenIsPrevClose bool // BitMEX: a bin's open is the previous bin's close
	CountFills      bool // Binance: n counts fills (last-first+1), not trade rows
	NoCount         bool // OKX, Bybit: the venue's final reports no trade count (n is 0)
	// VWAPPlaces > 0: the venue reports a vwap rounded (half away from zero)
	// to this many decimals, not a quote volume, and q is vwap × volume
	// (Kraken).
	VWAPPlaces uint8
}

// Brief renders a candle's values as o/h/l/c/v/q/n, the form Expected uses.
func Brief(c market.Candle) string {
	return fmt.Sprintf("%s/%s/%s/%s/%s/%s/%d", c.Open, c.High, c.Low, c.Close, c.Volume, c.Quote, c.Trades)
}

// Expected fetches the trade log of m from the simulator at base and
// returns the 1m candles with open time in [from, to), keyed by open time,
// in Brief form. Minutes without trades repeat the previous close with zero
// volume, as both venues publish them.
func Expected(base string, m market.Market, conv Convention, from, to int64) (map[int64]string, error) {
	q := url.Values{"venue": {m.Venue}, "symbol": {m.Symbol}, "from": {"0"}, "to": {fmt.Sprint(to)}}
	resp, err := http.Get(base + "/admin/trades?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("fetch trade log of %s: %w", m, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch trade log of %s: %s", m, resp.Status)
	}
	return Build(resp.Body, conv, from, to)
}

type agg struct {
	o, h, l, c, v, q market.Decimal
	n                int64
}

// Build reads a trade log (JSON lines of sim.TradeJSON, oldest first) and
// builds the candles with open time in [from, to) by conv.
func Build(r io.Reader, conv Convention, from, to int64) (map[int64]string, error) {
	bins := map[int64]*agg{}
	first := int64(-1)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var tr sim.TradeJSON
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			return nil, fmt.Errorf("read trade log: %w", err)
		}
		p, s, q := market.MustDecimal(tr.Price), market.MustDecimal(tr.Size), market.MustDecimal(tr.Quote)
		m := market.I1m.Truncate(tr.Time)
		if first < 0 {
			first = m
		}
		b := bins[m]
		if b == nil {
			b = &agg{o: p, h: p, l: p}
			bins[m] = b
		}
		if p.GreaterThan(b.h) {
			b.h = p
		}
		if p.LessThan(b.l) {
			b.l = p
		}
		b.c, b.v, b.q = p, b.v.Add(s), b.q.Add(q)
		switch {
		case conv.NoCount:
		case conv.CountFills:
			b.n += tr.Last - tr.First + 1
		default:
			b.n++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read trade log: %w", err)
	}
	out := map[int64]string{}
	var prevClose market.Decimal
	for m := first; m < to && first >= 0; m += 60_000 {
		b := bins[m]
		if b == nil {
			b = &agg{o: prevClose, h: prevClose, l: prevClose, c: prevClose}
		} else if conv.OpenIsPrevClose && m > first {
			b.o = prevClose
		}
		if m >= from {
			q := b.q
			if conv.VWAPPlaces > 0 && !b.v.IsZero() {
				q = b.q.MustDiv(b.v).RoundHAZ(conv.VWAPPlaces).Mul(b.v)
			}
			out[m] = fmt.Sprintf("%s/%s/%s/%s/%s/%s/%d", b.o, b.h, b.l, b.c, b.v, q, b.n)
		}
		prevClose = b.c
	}
	return out, nil
}
