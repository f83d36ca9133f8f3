// Package coinbasesim serves the Coinbase Exchange protocol from the
// simulator: the WebSocket feed (subscribe within 5 s; the matches channel
// with a last_match per product and then a match per trade, trade_id
// growing by one; the heartbeat channel with last_trade_id; subscriptions
// replies and error frames), and REST trades (cursor pages of up to 1000,
// newest first, CB-BEFORE and CB-AFTER headers), candles (granularity 60,
// at most 300 per request, rows [time, low, high, open, close, volume]
// newest first, none for a minute without trades) and the product list.
//
// Its skip-final fault drops the next match of a product: a break in
// trade_id continuity, the way the real feed loses a message.
package coinbasesim
