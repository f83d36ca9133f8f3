// Package upstream is the connection behaviour every venue shares: dial with
// a per-venue connect budget, exponential backoff with full jitter, a maximum
// frame size, a maximum connection lifetime, resubscription (each session
// subscribes again on every connect), cancellable waits and clean close.
//
// A venue supplies a Session: what to do on one open connection. Run owns
// the connection and redials until its context ends.
package upstream
