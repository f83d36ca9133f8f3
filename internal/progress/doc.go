// Package progress draws a progress bar on a terminal, and nothing
// elsewhere (backfill, migrate).
package progress
