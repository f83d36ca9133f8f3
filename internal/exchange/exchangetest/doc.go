// Package exchangetest holds what the venues' tests share: the table runner
// of a decoder's test, and a simulator serving one venue over a real
// socket for its feed and REST tests.
package exchangetest
