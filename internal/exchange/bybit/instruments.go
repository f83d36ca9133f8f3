package bybit

import (
	"context"
	"fmt"
	"net/url"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
)

// Instruments reads /v5/market/instruments-info?category=spot, following
// nextPageCursor.
func (r *REST) Instruments(ctx context.Context) (instrument.List, error) {
	var out instrument.List
	cursor := ""
	for page := 0; page < 100; page++ {
		q := url.Values{"category": {"spot"}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		body, _, err := r.HTTP.Get(ctx, r.Base+"/v5/market/instruments-info?"+q.Encode(), 1)
		if err != nil {
			return nil, fmt.Errorf("fetch bybit instruments: %w", err)
		}
		rows, next, err := DecodeInstruments(body)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if cursor = next; cursor == "" {
			break
		}
	}
	return instrument.Sorted(out), nil
}

// DecodeInstruments decodes one instruments-info page: priceFilter.tickSize
// and lotSizeFilter.basePrecision; status "Trading" trades. It returns the
// next page's cursor ("" at the end).
func DecodeInstruments(body []byte) (instrument.List, string, error) {
	var resp struct {
		RetCode int    `json:"retCode"`
		RetMsg  string `json:"retMsg"`
		Result  struct {
			List []struct {
				Symbol      string `json:"symbol"`
				BaseCoin    string `json:"baseCoin"`
				QuoteCoin   string `json:"quoteCoin"`
				Status      string `json:"status"`
				PriceFilter struct {
					TickSize string `json:"tickSize"`
				} `json:"priceFilter"`
				LotSizeFilter struct {
					BasePrecision string `json:"basePrecision"`
				} `json:"lotSizeFilter"`
			} `json:"list"`
			NextPageCursor string `json:"nextPageCursor"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, "", fmt.Errorf("%w: instruments: %v", ErrDecode, err)
	}
	if resp.RetCode != 0 {
		return nil, "", fmt.Errorf("%w: instruments: Bybit error %d %s", ErrDecode, resp.RetCode, resp.RetMsg)
	}
	out := make(instrument.List, 0, len(resp.Result.List))
	for _, s := range resp.Result.List {
		in, err := instrument.New(market.Market{Venue: Venue, Symbol: s.Symbol}, s.BaseCoin, s.QuoteCoin,
			s.PriceFilter.TickSize, s.LotSizeFilter.BasePrecision, s.Status == "Trading")
		if err != nil {
			return nil, "", fmt.Errorf("%w: instruments: %v", ErrDecode, err)
		}
		out = append(out, in)
	}
	return out, resp.Result.NextPageCursor, nil
}
