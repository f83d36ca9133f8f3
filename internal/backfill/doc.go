// Package backfill fetches a market's history over its venue's REST API
// and stores it with its rollups, a day at a time, drawing a progress bar
// on a terminal (`candlewire backfill`).
package backfill
