// Package bench holds candlewire's benchmark harnesses: the serving side
// (`candlewire bench fanout` and `transports`), collecting many markets
// (`bench collect`, collect.go) and the hour-long soak (`bench soak`,
// soakrun.go and soakchild.go).
//
// The server (store, hub, API, and a publisher writing revisions of one
// candle at a fixed rate) runs in the calling process; the clients run in a
// child process (`candlewire bench client`), so the server's CPU time is
// measured on its own. Every published revision carries its publish time
// in microseconds (in the candle's trade count), so each client measures
// delivery latency against the same clock. Bytes on the wire are counted
// on the server's sockets, headers and frames included.
package bench
