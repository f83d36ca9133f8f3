// Package cli implements candlewire's command line: run, watch, sim,
// backfill and export. Names and flags are a contract other tooling relies
// on; see docs/cli.md.
package cli
