// Package api serves stored and live candles to clients over four
// transports that share one subscription and resume model:
//
//   - WebSocket /v1/ws: subscribe and unsubscribe ops with an optional
//     since cursor, a snapshot on subscribe, acks and errors with codes,
//     application ping/pong, close codes with reasons;
//   - Server-Sent Events /v1/sse: the event id is the cursor and
//     Last-Event-ID resumes; a comment heartbeat every 15 s;
//   - long polling /v1/poll: returns as soon as anything is newer than the
//     cursor, or empty at the timeout, with the next cursor;
//   - polling /v1/candles: history and latest, JSON or CSV, with ETag.
//
// The cursor is the store's sequence number of a change (see package
// hub). A client that comes back with its cursor receives every bin that
// changed since, in its current revision, read from the store however long
// it was away, and then live changes from the hub; nothing is missed or
// repeated at the seam. Each client reads from its own bounded hub queue
// in its own goroutine, so a slow client is dropped as slow and never
// stalls the others.
package api
