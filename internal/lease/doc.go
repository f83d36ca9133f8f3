// Package lease is a lease held in a NATS JetStream key-value bucket: at
// most one holder at a time (KV Create and Update with the expected
// revision are a compare-and-set), kept by renewing, lost to another when
// the holder stops renewing for the bucket's TTL. The cluster's relay
// publishes under one.
package lease
