// Package wsconn is the server side of a WebSocket connection built for
// fan-out to many clients: no goroutine writes for a connection of its
// own. Writes come from whoever has data (a shared worker) and are tried
// without blocking; only a client whose socket is full gets a goroutine,
// which finishes the write under a deadline; a client that misses it, or
// lets too much wait, is closed as slow (4008). Each connection has one small
// reader goroutine that parses frames, answers pings, and hands complete
// messages to its Handler.
//
// gobwas/ws does the opening handshake and frame headers; this package
// owns the connection's life: read limits, close handshake with codes,
// protocol pings, and how much may wait in memory for a slow client.
package wsconn
