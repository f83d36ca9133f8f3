// Package cli implements candlewire's command line: it parses flags and
// the config file, and composes the components (venue drivers from
// exchange/registry, the collector, the store, the hub, the serving
// packages, the simulator, the benchmarks) into commands. Names and flags
// are a contract other tooling relies on; see docs/cli.md.
package cli
