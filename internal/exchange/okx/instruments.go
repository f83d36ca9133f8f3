package okx

import (
	"context"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
)

// Instruments reads /api/v5/public/instruments?instType=SPOT.
func (r *REST) Instruments(ctx context.Context) (instrument.List, error) {
	body, _, err := r.HTTP.Get(ctx, r.Base+"/api/v5/public/instruments?instType=SPOT", 1)
	if err != nil {
		return nil, fmt.Errorf("fetch okx instruments: %w", err)
	}
	return DecodeInstruments(body)
}

// DecodeInstruments decodes a public/instruments body: tickSz and lotSz;
// state "live" trades.
func DecodeInstruments(body []byte) (instrument.List, error) {
	var resp struct {
		Code string `json:"code"`
		Msg  string `json:"msg"`
		Data []struct {
			InstID   string `json:"instId"`
			BaseCcy  string `json:"baseCcy"`
			QuoteCcy string `json:"quoteCcy"`
			TickSz   string `json:"tickSz"`
			LotSz    string `json:"lotSz"`
			State    string `json:"state"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: instruments: %v", ErrDecode, err)
	}
	if resp.Code != "0" {
		return nil, fmt.Errorf("%w: instruments: OKX error %s %s", ErrDecode, resp.Code, resp.Msg)
	}
	out := make(instrument.List, 0, len(resp.Data))
	for _, d := range resp.Data {
		in, err := instrument.New(market.Market{Venue: Venue, Symbol: d.InstID}, d.BaseCcy, d.QuoteCcy, d.TickSz, d.LotSz, d.State == "live")
		if err != nil {
			return nil, fmt.Errorf("%w: instruments: %v", ErrDecode, err)
		}
		out = append(out, in)
	}
	return instrument.Sorted(out), nil
}
