// Package candle turns a venue's trades and bins into 1-minute candles that
// move from provisional to closed to reconciled, and rolls 1-minute candles
// up into every coarser interval.
//
// The engine is pure and clock-free: finality comes only from exchange data
// (a later trade, a later or final venue bin). It is not safe for concurrent
// use; each venue feed owns the engines of its markets.
package candle
