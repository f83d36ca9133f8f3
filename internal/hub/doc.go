// Package hub fans stored candle changes out to local subscribers. Each
// subscriber has a bounded queue; Publish never blocks, and a subscriber
// whose queue is full is dropped with a reason and counted, so one stuck
// subscriber never stalls the others or the collector.
package hub
