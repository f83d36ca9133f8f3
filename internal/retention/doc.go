// Package retention deletes candles older than each interval's retention
// (config retention.intervals), in the background and in small chunks, so
// a store grows to a bound instead of for ever, and counts what it deleted.
package retention
