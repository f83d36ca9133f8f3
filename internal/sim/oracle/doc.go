// Package oracle computes the 1-minute candles a venue would publish from
// the simulator's trade log (GET /admin/trades), by that venue's rules
// (its Convention, from its driver) and independently of candlewire's own
// candle engine. Tests and `candlewire bench collect` compare what
// candlewire stored against it.
package oracle
