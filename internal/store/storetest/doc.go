// Package storetest is the conformance suite every store.Store
// implementation runs, so the in-memory store and each real backend behave
// identically.
package storetest
