package kraken

import (
	"context"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/instrument"
)

// Instruments reads /0/public/AssetPairs.
func (r *REST) Instruments(ctx context.Context) (instrument.List, error) {
	body, _, err := r.HTTP.Get(ctx, r.Base+"/0/public/AssetPairs", 1)
	if err != nil {
		return nil, fmt.Errorf("fetch kraken asset pairs: %w", err)
	}
	return DecodeInstruments(body)
}

// DecodeInstruments decodes an AssetPairs body. Markets are named from
// wsname (XBT/USD is kraken:BTC-USD); the tick is tick_size, or
// 10^-pair_decimals where it is absent; the lot is 10^-lot_decimals;
// status "online" trades. Pairs without a wsname (dark pools) are left out.
func DecodeInstruments(body []byte) (instrument.List, error) {
	var resp struct {
		Error  []string `json:"error"`
		Result map[string]struct {
			WSName       string `json:"wsname"`
			PairDecimals int    `json:"pair_decimals"`
			LotDecimals  int    `json:"lot_decimals"`
			TickSize     string `json:"tick_size"`
			Status       string `json:"status"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: AssetPairs: %v", ErrDecode, err)
	}
	if len(resp.Error) > 0 {
		return nil, fmt.Errorf("%w: AssetPairs: Kraken error %v", ErrDecode, resp.Error)
	}
	out := make(instrument.List, 0, len(resp.Result))
	for _, p := range resp.Result {
		if p.WSName == "" {
			continue
		}
		if p.PairDecimals < 0 || p.PairDecimals > 18 || p.LotDecimals < 0 || p.LotDecimals > 18 {
			return nil, fmt.Errorf("%w: AssetPairs %s: decimals %d/%d", ErrDecode, p.WSName, p.PairDecimals, p.LotDecimals)
		}
		m := Market(p.WSName)
		base, quote, _ := strings.Cut(m.Symbol, "-")
		tick := p.TickSize
		if tick == "" {
			tick = step(p.PairDecimals)
		}
		in, err := instrument.New(m, base, quote, tick, step(p.LotDecimals), p.Status == "online")
		if err != nil {
			return nil, fmt.Errorf("%w: AssetPairs: %v", ErrDecode, err)
		}
		out = append(out, in)
	}
	return instrument.Sorted(out), nil
}

// step is 10^-places as text.
func step(places int) string {
	if places == 0 {
		return "1"
	}
	return "0." + strings.Repeat("0", places-1) + "1"
}
