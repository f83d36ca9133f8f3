// Package sim is candlewire's exchange simulator: one deterministic market
// engine per (venue, symbol), a time-compressed clock, fault injection, and
// an admin API that returns the full trade log so tests can compute the
// expected candles independently. Venue protocol front-ends (binancesim,
// bitmexsim) mount on a Server.
//
// Given the same seed and start time, the engine produces the same trades
// however often and at whatever real speed it is advanced.
package sim
