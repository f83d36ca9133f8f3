package binance

import "github.com/candlewire/candlewire/internal/market"

// Decoder decodes frames like Decode, with a fast path for the frame that
// arrives most, the combined-stream aggTrade: it reads the frame in place,
// without allocating. Anything the fast path does not fully understand,
// including every malformed frame, goes to Decode, so both paths give the
// same result (FuzzFastMatchesDecode checks it). A Decoder is used by one
// goroutine at a time.
type Decoder struct {
	syms market.Interner
}

// Decode decodes one frame.
func (d *Decoder) Decode(data []byte) (Event, error) {
	if ev, ok := d.fastAggTrade(data); ok {
		return ev, nil
	}
	return Decode(data)
}
