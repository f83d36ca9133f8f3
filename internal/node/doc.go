// Package node composes candlewire's components into what one process
// runs. Run is the single node: venues built from exchange/registry, the
// collector, the store, the hub, the HTTP server and the node's health,
// under one run group. Watch and Record are smaller compositions of the
// same pieces. Endpoints says where each venue is, and StartSim points
// every venue at an in-process simulator.
//
// The command line (package cli) parses flags and config into these
// compositions' settings and runs them.
package node
