// Package okxsim is the simulator's OKX v5 front-end: the public
// WebSocket endpoints /ws/v5/business (candle1m) and /ws/v5/public
// (trades), with text ping and pong, subscribe acks and error events, and
// the REST candles of /api/v5/market/candles and history-candles, all
// computed from the simulator's trade log.
package okxsim
