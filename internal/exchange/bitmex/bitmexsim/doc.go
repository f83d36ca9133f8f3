// Package bitmexsim is the simulator's BitMEX front-end: WebSocket
// /realtime (welcome, per-topic acks, trade and tradeBin partials and
// inserts, bins published a configurable delay after they close, open =
// previous close, empty bins, ping→pong, op:subscribe, 400 and 429 errors)
// and REST /api/v1/trade/bucketed and /api/v1/trade. Shapes follow the real
// recordings in ../shared/realdata.
package bitmexsim
