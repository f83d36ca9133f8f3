// Package bybitsim is the simulator's Bybit v5 spot front-end: the public
// WebSocket /v5/public/spot with kline.1 and publicTrade topics, op
// subscribe and op ping replies, and REST /v5/market/kline, all computed
// from the simulator's trade log.
package bybitsim
