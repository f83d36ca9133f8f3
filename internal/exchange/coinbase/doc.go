// Package coinbase is the Coinbase Exchange venue: a decoder for its
// WebSocket feed (matches, heartbeat, subscriptions and error frames on
// wss://ws-feed.exchange.coinbase.com), the feed that builds 1-minute
// candles from matches, and REST trades and candles.
//
// Conventions (docs/design.md, "Coinbase Exchange"):
//   - Markets are named by product id (coinbase:BTC-USD).
//   - The feed has no candles at all: every candle is built from matches.
//     A minute is final when its trades are proven complete: trade_id
//     grows by exactly one per match of a product, so a minute whose first
//     match follows the previous match's id, and which a later match or a
//     heartbeat (whose last_trade_id is still the last match) has ended, has
//     every trade. A break in trade_id continuity is a gap: no final is
//     made for the minutes it touches, and gap repair rebuilds them from
//     REST trades.
//   - Open time is the minute the match's time falls in. Volume is base
//     size; quote volume is the sum of price × size, exact; n counts
//     matches.
//   - side is the maker's side: "sell" means the taker bought.
//   - Empty minutes: Coinbase publishes nothing for a minute without
//     trades, neither on the feed nor in REST candles. A minute proven empty
//     (continuous trade ids across it) is stored flat at the previous close
//     with zero volume, as Binance publishes its empty klines.
package coinbase
