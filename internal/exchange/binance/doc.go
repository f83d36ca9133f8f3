// Package binance collects Binance spot candles: one combined-stream
// WebSocket connection per 1024 streams carrying <sym>@kline_1m and
// <sym>@aggTrade, and REST /api/v3/klines for gap repair and backfill.
//
// Limits respected: at most 5 incoming messages per second per connection
// (we send at most 4), 1024 streams per connection, 300 connects per 5
// minutes (a shared upstream.Budget), proactive reconnect before the 24-hour
// cut, serverShutdown events, and REST request weight with Retry-After on
// 429 and 418.
package binance
