// Package upstreamtest has an in-memory upstream.Sink that counts what a
// feed delivers, for the venues' feed tests.
package upstreamtest
