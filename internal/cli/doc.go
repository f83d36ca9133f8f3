// Package cli implements candlewire's command line: it parses flags and
// the config file into the settings of package node's compositions (run,
// watch, record, backfill, sim) and of the benchmarks, runs them, and
// maps their errors to exit statuses. Names and flags are a contract
// other tooling relies on; see docs/cli.md.
package cli
