// Package postgres is the shared store: candles with their change log's
// sequence (the cursor), the gap ledger and the connect log in PostgreSQL,
// for several collectors and gateways at once (`--db postgres://…`).
//
// Many writers: a write reads the head and then the stored rows of its
// batch (one round trip), merges them (market.Merge, as every store does)
// and only then locks the one row of candle_head. If a row of the batch's
// series was stored since the head it read (a higher sequence number), it
// reads and merges again under the lock. Holding the lock, it numbers the
// changed rows after the head and writes them: new bins with a plain
// INSERT, stored ones with an UPDATE whose WHERE holds the merge's rules,
// so that no version that would lose an update or move a bin back is
// written. The lock is released at commit, after the rows are visible, so
// sequence numbers become visible in order: a reader polling seq > cursor
// never skips a row that commits late (a bigserial would allow that).
package postgres
