// Package sim is candlewire's exchange simulator: one deterministic market
// engine per (venue, symbol), a time-compressed clock, fault injection, and
// an admin API that returns the full trade log so tests can compute the
// expected candles independently. Each venue's protocol front-end lives
// beside its client (exchange/<venue>/<venue>sim) and mounts on a Server
// through the venue's driver; sim/oracle computes the expected candles.
//
// Given the same seed and start time, the engine produces the same trades
// however often and at whatever real speed it is advanced.
package sim
