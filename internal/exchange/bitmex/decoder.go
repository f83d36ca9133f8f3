package bitmex

import "github.com/candlewire/candlewire/internal/market"

// Decoder decodes frames like Decode, with a fast path for the frames that
// arrive most, trade and tradeBin1m inserts: it reads them in place and
// reuses its slices, so it does not allocate. Anything the fast path does
// not fully understand (other tables, rows it would skip, unusual
// timestamps, every malformed frame) goes to Decode, so both paths give
// the same result (FuzzFastMatchesDecode checks it). The Trades and Bins
// of an event are valid until the next call. A Decoder is used by one
// goroutine at a time.
type Decoder struct {
	trades []market.Trade
	bins   []market.Candle
	syms   market.Interner
	ts     market.UTCMemo
}

// Decode decodes one frame. A trade or tradeBin1m insert that the fast
// path left to the full decoder has Slow set: the venue changed the
// frame's form.
func (d *Decoder) Decode(data []byte) (Event, error) {
	if ev, ok := d.fast(data); ok {
		return ev, nil
	}
	ev, err := Decode(data)
	if err == nil && ev.Action == "insert" && (ev.Table == "trade" || ev.Table == "tradeBin1m") {
		ev.Slow = ev.Table
	}
	return ev, err
}
