// Package tail follows a store's change log and publishes every change to
// a hub, in sequence order. A node whose store other processes write too
// (PostgreSQL) feeds its live clients this way: its own writer's changes
// are only some of them, and a client that got them alone would move its
// cursor past the others'.
package tail
