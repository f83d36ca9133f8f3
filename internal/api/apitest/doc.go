// Package apitest has clients of the four transports of package api, for
// tests: each delivers what it receives on a channel and returns the cursor
// to resume from.
package apitest
