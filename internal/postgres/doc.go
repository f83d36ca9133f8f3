// Package postgres is the shared store: candles with their change log's
// sequence (the cursor), the gap ledger and the connect log in PostgreSQL,
// for several collectors and gateways at once (`--db postgres://…`).
//
// Many writers: each write transaction first locks the one row of
// candle_head. While it holds it, it reads the stored rows of its batch,
// merges them (market.Merge, as every store does), numbers the changed
// rows after the head, and writes them: new bins with a plain INSERT,
// stored ones with an UPDATE whose WHERE holds the merge's rules, so that
// no version that would lose an update or move a bin back is written.
// The lock is released at commit, after the rows are visible, so sequence
// numbers become visible in order: a reader polling seq > cursor never
// skips a row that commits late (a bigserial would allow that).
package postgres
