package bitmexcompat

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// instrument is the subset of BitMEX's instrument record that clients
// (ccxt's bitmex adapter among them) read to learn the markets. Every
// served symbol is described as BitMEX described XBTUSD: a perpetual swap
// quoted in USD, settled in XBt; XBT itself is inverse, others quanto.
type instrument struct {
	Symbol                       string  `json:"symbol"`
	RootSymbol                   string  `json:"rootSymbol"`
	State                        string  `json:"state"`
	Typ                          string  `json:"typ"`
	Listing                      string  `json:"listing"`
	Expiry                       *string `json:"expiry"`
	PositionCurrency             string  `json:"positionCurrency"`
	Underlying                   string  `json:"underlying"`
	QuoteCurrency                string  `json:"quoteCurrency"`
	MaxOrderQty                  int64   `json:"maxOrderQty"`
	MaxPrice                     int64   `json:"maxPrice"`
	LotSize                      int64   `json:"lotSize"`
	TickSize                     float64 `json:"tickSize"`
	Multiplier                   int64   `json:"multiplier"`
	SettlCurrency                string  `json:"settlCurrency"`
	UnderlyingToSettleMultiplier *int64  `json:"underlyingToSettleMultiplier"`
	IsQuanto                     bool    `json:"isQuanto"`
	IsInverse                    bool    `json:"isInverse"`
	InitMargin                   float64 `json:"initMargin"`
	MaintMargin                  float64 `json:"maintMargin"`
	MakerFee                     float64 `json:"makerFee"`
	TakerFee                     float64 `json:"takerFee"`
	Source                       string  `json:"candlewireMarket"` // the market behind the symbol
}

// serveInstruments answers /api/v1/instrument/active and
// /api/v1/instrument/activeAndIndices with the served symbols.
func (s *Server) serveInstruments(w http.ResponseWriter, _ *http.Request) {
	var out []instrument
	for _, alias := range slices.Sorted(maps.Keys(s.aliases)) {
		root := strings.TrimSuffix(alias, "USD")
		in := instrument{Symbol: alias, RootSymbol: root, State: "Open", Typ: "FFWCSX", Listing: "2016-05-13T12:00:00.000Z",
			PositionCurrency: "USD", Underlying: root, QuoteCurrency: "USD", MaxOrderQty: 10_000_000, MaxPrice: 1_000_000,
			LotSize: 1, TickSize: 0.01, SettlCurrency: "XBt", InitMargin: 0.01, MaintMargin: 0.0035,
			MakerFee: -0.00025, TakerFee: 0.00075, Source: s.aliases[alias].String()}
		if root == "XBT" {
			in.LotSize, in.TickSize, in.Multiplier, in.IsInverse = 100, 0.5, -100_000_000, true
			m := int64(-100_000_000)
			in.UnderlyingToSettleMultiplier = &m
		} else {
			in.Multiplier, in.IsQuanto = 100, true
		}
		out = append(out, in)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out) //nolint:errcheck // the client went away
}

// asset is one entry of BitMEX's /api/v1/wallet/assets, which clients
// such as ccxt read for currency codes and scales.
type asset struct {
	Asset            string `json:"asset"`
	Currency         string `json:"currency"`
	MajorCurrency    string `json:"majorCurrency"`
	Name             string `json:"name"`
	CurrencyType     string `json:"currencyType"`
	Scale            int    `json:"scale"`
	Enabled          bool   `json:"enabled"`
	IsMarginCurrency bool   `json:"isMarginCurrency"`
	Networks         []any  `json:"networks"`
}

// serveAssets answers /api/v1/wallet/assets: XBt (the settlement
// currency of every served symbol) and the roots of the served symbols.
func (s *Server) serveAssets(w http.ResponseWriter, _ *http.Request) {
	out := []asset{{Asset: "XBT", Currency: "XBt", MajorCurrency: "XBT", Name: "Bitcoin", CurrencyType: "Crypto", Scale: 8,
		Enabled: true, IsMarginCurrency: true, Networks: []any{}}}
	for _, alias := range slices.Sorted(maps.Keys(s.aliases)) {
		if root := strings.TrimSuffix(alias, "USD"); root != "XBT" {
			out = append(out, asset{Asset: root, Currency: strings.ToLower(root), MajorCurrency: root, Name: root,
				CurrencyType: "Crypto", Scale: 8, Enabled: true, Networks: []any{}})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out) //nolint:errcheck // the client went away
}
