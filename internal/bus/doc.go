// Package bus is a cluster's live bus on NATS JetStream. A relay, one at a
// time under a lease, publishes the store's change log in sequence order,
// one message per change on its series' subject, deduplicated by its
// sequence number. A gateway's feed delivers the bus to its hub and reads
// from the store whatever the bus missed: a hole in the chain of
// sequence numbers, a bus that is down, or a start. The store, not the
// bus, is the truth: the stream's own sequence is never a cursor.
package bus
