// Package kraken is the Kraken spot venue: decoders for its WebSocket v2
// frames (ohlc interval 1 and trade, on wss://ws.kraken.com/v2), for the
// v1 frames of the recorded sessions (trade arrays, events), and for its
// REST OHLC.
//
// Conventions (docs/design.md, "Kraken v2"):
//   - Markets are named with a dash (kraken:BTC-USD); the wire uses
//     "BTC/USD" (v2) and "XBT/USD" (v1, REST "XBTUSD").
//   - An ohlc row's interval_begin is the open time. Rows carry no closed
//     flag: a window is final when a row of a later window arrives, so the
//     feed emits the last row it had of the earlier window as final.
//   - volume is base volume and trades the trade count; Kraken reports no
//     quote volume but a vwap, so q is vwap × volume.
//   - trade_id (v2) is consecutive per book: a jump is a missed trade.
package kraken
