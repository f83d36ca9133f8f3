// Package cluster is a node's part in a cluster on NATS JetStream: its
// connection to the servers, and the cluster's streams and buckets
// (docs/cluster.md).
package cluster
