// Package krakensim is the simulator's Kraken front-end: WebSocket v2 at
// /v2 (status, ohlc with its snapshot, trade, heartbeat, ping and pong,
// per-symbol acks) and REST /0/public/OHLC (the 720 most recent minutes),
// all computed from the simulator's trade log.
//
// Where Kraken's behaviour is unconfirmed the simulator assumes: ohlc rows
// only for windows with trades; REST rows for every minute (an empty one
// repeats the previous close, vwap included, with zero volume); vwap
// rounded half away from zero to the price's decimals plus 4.
package krakensim
