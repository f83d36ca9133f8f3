// Package bitmexcompat serves BitMEX's own protocol from candlewire's
// candles, so programs written for BitMEX (closed on 2026-09-23) keep
// working with only their URL changed: the WebSocket /realtime (welcome,
// ?subscribe= and op:subscribe, tradeBin1m/5m/1h/1d and trade tables with
// partial then insert, text ping → pong, BitMEX-shaped errors) and the REST
// /api/v1/trade/bucketed.
//
// BitMEX symbols are aliases of candlewire markets: XBTUSD defaults to the
// first configured BTC/USD(T) market, and the config can name others. Rows
// follow BitMEX's conventions: a bin is stamped with its end, prices and
// sizes are JSON numbers, field names are BitMEX's. Values come from the
// market behind the alias; for a spot market homeNotional is the base
// volume, foreignNotional the quote volume, and volume (contracts of one
// USD on BitMEX) the quote volume rounded down.
package bitmexcompat
