package binance

import "github.com/candlewire/candlewire/internal/market"

// Decoder decodes frames like Decode, with a fast path for the frames that
// arrive most, the combined-stream aggTrade and kline: it reads them in
// place, without allocating. Anything the fast path does not fully
// understand, including every malformed frame, goes to Decode, so both
// paths give the same result (FuzzFastMatchesDecode checks it). A Decoder
// is used by one goroutine at a time.
type Decoder struct {
	syms market.Interner
}

// Decode decodes one frame. A trade or kline that the fast path left to
// the full decoder has Slow set: the venue changed the frame's form.
func (d *Decoder) Decode(data []byte) (Event, error) {
	if ev, ok := d.fast(data); ok {
		return ev, nil
	}
	ev, err := Decode(data)
	if err == nil {
		ev.Slow = fastKinds[ev.Kind]
	}
	return ev, err
}

// fastKinds names the kinds the Decoder's fast path reads, for Slow.
var fastKinds = map[Kind]string{KindTrade: "aggTrade", KindKline: "kline"}
