// Package hub fans stored candle changes out to local subscribers.
//
// Streams are keyed by market and interval ("binance:BTCUSDT@1m"). Every
// change carries the store's sequence number, which orders changes and is
// the resume cursor of every stream: the hub holds no history, the store
// does (store.Since).
//
// Each subscriber has a queue bounded in messages and in bytes. Publish
// never blocks and never writes to a client: it encodes each change once,
// appends it to the queues of the stream's subscribers and signals them;
// each subscriber's own goroutine drains its queue with Next. A change to a
// bin that is still queued replaces the queued one and moves to the end,
// so updates of the forming candle are conflated, the final state is never
// lost, and delivery stays in sequence order (a client's cursor is always
// the sequence number of the last change it received). A subscriber whose
// queue still overflows is ended with ErrSlow and counted; it can resume
// from its cursor, and it never stalls the others.
//
// With a Pass (SetPass; the API sets one, run by workers of its own), Publish
// splits the fan-out in parts instead, each a fixed share of the
// subscribers, queued for and served by one goroutine of the pass: a
// subscriber's delivery then runs right after its queueing, on the same
// core, while what it reads is still in the cache. A subscriber is in one
// part for its whole life and a Publish waits for the last one's parts, so
// its updates stay in order.
package hub
