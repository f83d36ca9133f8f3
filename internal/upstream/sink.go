package upstream

import "github.com/candlewire/candlewire/internal/market"

// Sink receives what a venue feed decodes. Calls for one market always come
// from one goroutine; different markets may be delivered concurrently.
type Sink interface {
	// Trades delivers a frame's trades, in the venue's order. The slice is
	// valid only during the call, and is not written to.
	Trades(ts []market.Trade)
	// Bin delivers a venue 1-minute candle: forming (State Provisional) or
	// the venue's final value (State Reconciled).
	Bin(c market.Candle)
	// Live says the markets are subscribed on a fresh connection; anything
	// before this point may have been missed.
	Live(markets []market.Market)
	// Down says the connection that carries the markets' bins ended. Until
	// Live, their missing finals belong to this outage and are repaired
	// once after it, not one by one as overdue (a venue whose trades come
	// on another connection keeps its clock moving meanwhile).
	Down(markets []market.Market)
	// Skip reports a frame that could not be used; it is counted and logged,
	// never fatal.
	Skip(venue, reason string, err error)
}
