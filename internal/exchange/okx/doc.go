// Package okx is the OKX v5 venue: decoders for its public WebSocket
// frames (candle1m on /ws/v5/business, trades on /ws/v5/public) and its
// REST candles.
//
// Conventions (docs/venues.md has the sources):
//   - A candle row's ts is the open time of the bin; confirm "1" marks the
//     venue's final value. Rows have 9 fields, or 7 in the older feed
//     (no volCcyQuote, no confirm: never final).
//   - vol is base volume for spot (contracts for derivatives) and is the
//     candle's volume; the quote volume is volCcyQuote, or volCcy for a
//     7-field spot row.
//   - OKX candles carry no trade count. A trades-channel row aggregates the
//     fills of one taker order and has its own tradeId, consecutive per
//     instrument; candlewire counts trade ids, so a gap in them is a gap in
//     the feed.
package okx
