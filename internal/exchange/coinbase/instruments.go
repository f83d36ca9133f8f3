package coinbase

import (
	"context"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/instrument"
)

// Instruments reads /products.
func (r *REST) Instruments(ctx context.Context) (instrument.List, error) {
	body, _, err := r.HTTP.Get(ctx, r.Base+"/products", 1)
	if err != nil {
		return nil, fmt.Errorf("fetch coinbase products: %w", err)
	}
	return DecodeInstruments(body)
}

// DecodeInstruments decodes a /products body: quote_increment is the tick,
// base_increment the lot; a product trades when its status is "online" and
// trading is not disabled.
func DecodeInstruments(body []byte) (instrument.List, error) {
	var rows []struct {
		ID              string `json:"id"`
		BaseCurrency    string `json:"base_currency"`
		QuoteCurrency   string `json:"quote_currency"`
		QuoteIncrement  string `json:"quote_increment"`
		BaseIncrement   string `json:"base_increment"`
		Status          string `json:"status"`
		TradingDisabled bool   `json:"trading_disabled"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("%w: products: %v", ErrDecode, err)
	}
	out := make(instrument.List, 0, len(rows))
	for _, p := range rows {
		in, err := instrument.New(Market(p.ID), p.BaseCurrency, p.QuoteCurrency, p.QuoteIncrement, p.BaseIncrement,
			p.Status == "online" && !p.TradingDisabled)
		if err != nil {
			return nil, fmt.Errorf("%w: products: %v", ErrDecode, err)
		}
		out = append(out, in)
	}
	return instrument.Sorted(out), nil
}
