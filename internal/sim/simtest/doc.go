// Package simtest computes, for tests, the 1-minute candles a venue would
// publish from the simulator's trade log (GET /admin/trades), by that
// venue's rules and independently of candlewire's own candle engine. Tests
// compare what candlewire stored against it.
package simtest
