// Package runq runs jobs on a small set of workers. A job is scheduled
// whenever it may have work; it runs at most once at a time, and a
// schedule that arrives while it runs makes it run again, so no wake-up is
// lost. Workers start when jobs are queued and exit when the queue is
// empty, so an idle queue holds no goroutine.
//
// It is what lets ten thousand WebSocket connections share a few writers
// instead of one writer goroutine each.
package runq
