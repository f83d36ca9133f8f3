package binance

import (
	"context"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
)

// Instruments reads /api/v3/exchangeInfo (request weight 20).
func (r *REST) Instruments(ctx context.Context) (instrument.List, error) {
	body, _, err := r.HTTP.Get(ctx, r.Base+"/api/v3/exchangeInfo", 20)
	if err != nil {
		return nil, fmt.Errorf("fetch binance exchange info: %w", err)
	}
	return DecodeInstruments(body)
}

// DecodeInstruments decodes an exchangeInfo body: each symbol's PRICE_FILTER
// tickSize and LOT_SIZE stepSize.
func DecodeInstruments(body []byte) (instrument.List, error) {
	var info struct {
		Symbols []struct {
			Symbol     string `json:"symbol"`
			Status     string `json:"status"`
			BaseAsset  string `json:"baseAsset"`
			QuoteAsset string `json:"quoteAsset"`
			Filters    []struct {
				Type     string `json:"filterType"`
				TickSize string `json:"tickSize"`
				StepSize string `json:"stepSize"`
			} `json:"filters"`
		} `json:"symbols"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("%w: exchangeInfo: %v", ErrDecode, err)
	}
	out := make(instrument.List, 0, len(info.Symbols))
	for _, s := range info.Symbols {
		var tick, lot string
		for _, f := range s.Filters {
			switch f.Type {
			case "PRICE_FILTER":
				tick = f.TickSize
			case "LOT_SIZE":
				lot = f.StepSize
			}
		}
		in, err := instrument.New(market.Market{Venue: Venue, Symbol: s.Symbol}, s.BaseAsset, s.QuoteAsset, tick, lot, s.Status == "TRADING")
		if err != nil {
			return nil, fmt.Errorf("%w: exchangeInfo: %v", ErrDecode, err)
		}
		out = append(out, in)
	}
	return instrument.Sorted(out), nil
}
