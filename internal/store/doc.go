// Package store defines where candles and the gap ledger are kept: the Store
// interface, its in-memory implementation (Memory) and the rules every
// implementation shares.
//
// Every bin (venue, symbol, interval, open time) is stored exactly once.
// Writes are upserts that follow market.Merge: replays are idempotent, each
// change raises the revision, and a candle never moves back in its
// lifecycle. One invalid or conflicting row never loses the rest of its
// batch. Implementations are safe for concurrent use.
package store
