// Package bitmex speaks the BitMEX realtime protocol as a client, against
// any BitMEX-compatible endpoint: candlewire's simulator, a replay, or
// another candlewire. BitMEX itself closed on 2026-09-23, so there is no
// default URL.
//
// Conventions preserved, not "fixed": a tradeBin row stamped T covers
// [T-1m, T) and is stored at open time T-1m; a bin's open is the previous
// bin's close, so it can lie outside [low, high]. Trades are built into
// provisional candles at once; the bin, published about 15 s after the
// minute, reconciles them.
package bitmex
