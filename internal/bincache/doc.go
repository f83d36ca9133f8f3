// Package bincache keeps, for a store's only writer, the stored rows of
// each series' recent bins, so that a write merges against and rolls up
// from what it knows instead of reading back what it wrote a moment ago.
//
// For each series (market and interval) the cache holds every stored row
// whose open time is at or after the series' from: a row absent there is
// absent from the store. It learns a series by reading it from the store
// once, from the start of the widest window a rollup reads around the
// first bin asked (Loader), and then keeps it current from the rows the
// writer's transactions wrote, applied only when they commit. Bins older
// than from (repairs of old minutes) are not answered; the store reads
// them.
//
// The cache is exact only while every write to the store goes through the
// one writer that owns it: a SQLite file has one writer (a lock), and its
// Store is that writer. A store that other processes write (PostgreSQL)
// must check, in each transaction, that no one else wrote a market's
// series since it last knew them, forget those someone did
// (Tx.ForgetMarket), and forget rows below what anyone deleted (Tx.Cut).
package bincache
