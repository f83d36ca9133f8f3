// Package migrate copies one store into another (`candlewire migrate
// --from FILE.db --to postgres://…`): candles with their revisions, the
// gap ledger and the connect log. Copying again copies nothing new.
package migrate
