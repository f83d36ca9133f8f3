// Package metrics holds candlewire's Prometheus metrics. They are registered
// on an injected registry, never the global one, so tests and several
// instances in one process do not collide.
package metrics
