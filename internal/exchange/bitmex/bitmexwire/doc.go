// Package bitmexwire holds the BitMEX protocol's conventions that its
// client, its simulator front-end and candlewire's BitMEX-compatible
// server (bitmexcompat) share: timestamps and op arguments.
package bitmexwire
