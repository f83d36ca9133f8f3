// Package collector runs candlewire's data path: each venue feed delivers
// trades and bins to per-market candle engines; a Writer conflates the
// resulting candle versions, stores them with their rollups and publishes
// what changed; a repairer finds missing minutes after every (re)connect and
// whenever a final is overdue by exchange time, fetches them over REST and
// records each gap in the ledger.
package collector
