package bitmex

import (
	"context"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
)

// Instruments reads /api/v1/instrument/active.
func (r *REST) Instruments(ctx context.Context) (instrument.List, error) {
	body, _, err := r.HTTP.Get(ctx, r.Base+"/api/v1/instrument/active", 1)
	if err != nil {
		return nil, fmt.Errorf("fetch bitmex instruments: %w", err)
	}
	return DecodeInstruments(body)
}

// DecodeInstruments decodes an /api/v1/instrument/active body: tickSize and
// lotSize (contracts) are JSON numbers, read from their text; state "Open"
// trades.
func DecodeInstruments(body []byte) (instrument.List, error) {
	var rows []struct {
		Symbol        string      `json:"symbol"`
		State         string      `json:"state"`
		Underlying    string      `json:"underlying"`
		QuoteCurrency string      `json:"quoteCurrency"`
		TickSize      json.Number `json:"tickSize"`
		LotSize       json.Number `json:"lotSize"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("%w: instruments: %v", ErrDecode, err)
	}
	out := make(instrument.List, 0, len(rows))
	for _, r := range rows {
		in, err := instrument.New(market.Market{Venue: Venue, Symbol: r.Symbol}, r.Underlying, r.QuoteCurrency,
			string(r.TickSize), string(r.LotSize), r.State == "Open")
		if err != nil {
			return nil, fmt.Errorf("%w: instruments: %v", ErrDecode, err)
		}
		out = append(out, in)
	}
	return instrument.Sorted(out), nil
}
