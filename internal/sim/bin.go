package sim

import "github.com/candlewire/candlewire/internal/market"

// Bin is the true 1-minute bin of an instrument, computed from its log.
type Bin struct {
	Open      int64 // start of the minute, UTC ms
	First     Trade // first trade (zero when empty)
	High, Low int64 // price units
	Close     int64 // last price, or the previous close when empty
	PrevClose int64 // close of the previous bin (BitMEX's open)
	Volume    int64 // size units
	LastSize  int64 // size of the last trade
	Quote     market.Decimal
	Count     int64 // trade rows (aggregate trades)
	Fills     int64 // underlying fills (Binance's n)
	FirstFill int64 // -1 when empty
	LastFill  int64 // -1 when empty
}

// Empty reports whether no trade happened in the minute.
func (b Bin) Empty() bool { return b.Count == 0 }

// Bin computes the bin of the minute starting at open from the trade log.
func (in *Instrument) Bin(open int64) Bin {
	end := open + market.I1m.Millis()
	prev := in.Spec.Start
	if t, ok := in.LastBefore(open); ok {
		prev = t.Price
	}
	b := Bin{Open: open, PrevClose: prev, High: prev, Low: prev, Close: prev, Quote: market.Zero, FirstFill: -1, LastFill: -1}
	for i, t := range in.Trades(open, end) {
		if i == 0 {
			b.First, b.High, b.Low, b.FirstFill = t, t.Price, t.Price, t.First
		}
		b.High, b.Low = max(b.High, t.Price), min(b.Low, t.Price)
		b.Close, b.LastFill = t.Price, t.Last
		b.Volume += t.Size
		b.LastSize = t.Size
		b.Quote = b.Quote.Add(in.Quote(t))
		b.Count++
		b.Fills += t.Last - t.First + 1
	}
	return b
}

// OpenPrice is the first trade's price (Binance's open), or the previous
// close when the minute is empty.
func (b Bin) OpenPrice() int64 {
	if b.Empty() {
		return b.PrevClose
	}
	return b.First.Price
}
