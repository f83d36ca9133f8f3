package bitmex

import "github.com/candlewire/candlewire/internal/market"

// Decoder decodes frames like Decode, with a fast path for the frame that
// arrives most, a trade insert: it reads the frame in place and reuses its
// slice of trades, so it does not allocate. Anything the fast path does not
// fully understand (other tables, rows it would skip, unusual timestamps,
// every malformed frame) goes to Decode, so both paths give the same result
// (FuzzFastMatchesDecode checks it). The Trades of an event are valid until
// the next call. A Decoder is used by one goroutine at a time.
type Decoder struct {
	trades []market.Trade
	syms   market.Interner
}

// Decode decodes one frame.
func (d *Decoder) Decode(data []byte) (Event, error) {
	if ev, ok := d.fastTradeInsert(data); ok {
		return ev, nil
	}
	return Decode(data)
}
