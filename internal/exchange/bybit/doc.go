// Package bybit is the Bybit v5 venue (spot): decoders for its public
// WebSocket frames (kline.1.SYMBOL and publicTrade.SYMBOL on
// /v5/public/spot), its pongs and op replies, and its REST klines.
//
// Conventions (docs/design.md, "Bybit v5"):
//   - A kline's start is the open time of the bin; confirm true marks the
//     venue's final value.
//   - volume is the base volume (contracts for derivatives), turnover the
//     quote volume.
//   - Klines carry no trade count, and publicTrade trade ids are not
//     consecutive (spot ids are large numbers, derivative ids UUIDs), so a
//     reconciled candle has no count (0) and gaps in trades cannot be seen
//     from ids: the finals and the overdue check repair them.
package bybit
