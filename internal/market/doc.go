// Package market is candlewire's data model: markets (venue:SYMBOL),
// intervals, exact decimal numbers, trades and candles.
//
// Times are UTC milliseconds since the Unix epoch. A candle is keyed by
// (venue, symbol, interval, open time), where open time is the start of the
// bin. Prices and sizes are exact decimals ([Decimal]); no float64 is used
// anywhere in the data path.
package market
