// Package exchangetest holds what the venues' tests share: the table runner
// of a decoder's test; the checks that a fast path agrees with its full
// decoder (FastMatchesFull, FastTakes, SlowNamed); the real-frame
// benchmarks' runner (BenchFrames, CheckFrames, Engines) with the
// simulator recordings in testdata for kinds the real ones lack
// (SimFrames); and a simulator serving one venue over a real socket for
// its feed and REST tests.
package exchangetest
