package market

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// State is where a candle is in its lifecycle. States only move forward.
type State int

// Candle lifecycle states.
const (
	// Provisional candles are still forming, built live from trades or from
	// the venue's forming bin.
	Provisional State = 1
	// Closed candles are complete: exchange data (a later trade or bin) shows
	// the bin is over, but the venue's own final value has not arrived yet.
	Closed State = 2
	// Reconciled candles carry the venue's own final values (final kline,
	// published bin, or REST).
	Reconciled State = 3
)

func (s State) String() string {
	switch s {
	case Provisional:
		return "provisional"
	case Closed:
		return "closed"
	case Reconciled:
		return "reconciled"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Source says which data a candle revision was built from.
type Source string

// Candle sources.
const (
	SourceTrades Source = "ws-trades" // built from live trades
	SourceKline  Source = "ws-kline"  // a venue kline push (Binance and similar)
	SourceBin    Source = "ws-bin"    // a venue bin (BitMEX tradeBin tables)
	SourceREST   Source = "rest"      // fetched over REST
	SourceRollup Source = "rollup"    // rolled up from a finer interval
)

// Trade is one execution (or one aggregated trade) reported by a venue.
type Trade struct {
	Market Market
	Time   int64   // execution time, UTC ms
	Price  Decimal // exact price
	Size   Decimal // base or contract size
	Quote  Decimal // quote-currency amount
	Buy    bool    // the taker bought (Binance m=false, BitMEX side Buy)
	// FirstSeq and LastSeq are the venue's sequential trade ids covered by
	// this trade (Binance aggTrade f and l); 0 when the venue has none
	// (BitMEX trade ids are UUIDs and are not kept).
	FirstSeq, LastSeq int64
}

// Candle is one OHLCV bin.
type Candle struct {
	Market   Market
	Interval Interval
	OpenTime int64 // start of the bin, UTC ms
	Open     Decimal
	High     Decimal
	Low      Decimal
	Close    Decimal
	Volume   Decimal // base or contract volume
	Quote    Decimal // quote volume / turnover
	Trades   int64
	State    State
	Rev      int64 // raised on every stored change; assigned by the store
	// Seq is the store's sequence number of the current revision: every
	// stored change gets the next one, across all markets, so it orders
	// changes and serves as the resume cursor of every stream. Assigned by
	// the store.
	Seq     int64
	Source  Source // what the current revision was built from
	Updated int64  // when the current revision was stored, UTC ms
	// LastSeq is the last venue trade id included (Binance kline L); 0 when
	// unknown. It is not stored.
	LastSeq int64
}

// Key identifies a candle's bin.
type Key struct {
	Market   Market
	Interval Interval
	OpenTime int64
}

// Key returns the bin this candle belongs to.
func (c Candle) Key() Key { return Key{c.Market, c.Interval, c.OpenTime} }

// Over reports whether the bin is over (closed or reconciled).
func (c Candle) Over() bool { return c.State >= Closed }

// Final reports whether the venue's own final value is stored (reconciled):
// the wire's "final".
func (c Candle) Final() bool { return c.State == Reconciled }

// Finals counts the final (reconciled) candles of cs.
func Finals(cs []Candle) int {
	n := 0
	for _, c := range cs {
		if c.Final() {
			n++
		}
	}
	return n
}

// SameValues reports whether two candles carry identical OHLCV values.
func (c Candle) SameValues(o Candle) bool {
	return c.Open.Equal(o.Open) && c.High.Equal(o.High) && c.Low.Equal(o.Low) &&
		c.Close.Equal(o.Close) && c.Volume.Equal(o.Volume) && c.Quote.Equal(o.Quote) &&
		c.Trades == o.Trades
}

// behind reports whether c was built from less of its bin than o: less
// volume, or as much from fewer trades. Volume first: a venue's forming
// bin may carry no trade count.
func (c Candle) behind(o Candle) bool {
	if !c.Volume.Equal(o.Volume) {
		return c.Volume.LessThan(o.Volume)
	}
	return c.Trades < o.Trades
}

// Disagrees reports whether a venue's final candle differs from one built
// from trades. Open is not compared: BitMEX defines a bin's open as the
// previous close, so it differs from the first trade by design. Quote is not
// compared because venues define it differently (turnover vs notional).
func (c Candle) Disagrees(venue Candle) bool {
	return !c.High.Equal(venue.High) || !c.Low.Equal(venue.Low) || !c.Close.Equal(venue.Close) ||
		!c.Volume.Equal(venue.Volume) || c.Trades != venue.Trades
}

// Validate checks a candle before it is stored.
func (c Candle) Validate() error {
	switch {
	case c.Market.Venue == "" || c.Market.Symbol == "":
		return fmt.Errorf("candle has no market")
	case c.Interval.Millis() == 0:
		return fmt.Errorf("candle %s: unknown interval %q", c.Market, c.Interval)
	case c.Interval.Truncate(c.OpenTime) != c.OpenTime:
		return fmt.Errorf("candle %s %s: open time %d is not aligned", c.Market, c.Interval, c.OpenTime)
	case c.State < Provisional || c.State > Reconciled:
		return fmt.Errorf("candle %s %s %d: invalid state %d", c.Market, c.Interval, c.OpenTime, c.State)
	case c.Volume.Sign() < 0 || c.Trades < 0:
		return fmt.Errorf("candle %s %s %d: negative volume or trade count", c.Market, c.Interval, c.OpenTime)
	case c.High.LessThan(c.Low):
		return fmt.Errorf("candle %s %s %d: high %s below low %s", c.Market, c.Interval, c.OpenTime, c.High, c.Low)
	}
	return nil
}

// Outcome is what merging a new candle version into the stored one did.
type Outcome int

// Merge outcomes.
const (
	Unchanged Outcome = iota // identical to what is stored (idempotent replay)
	Inserted                 // first version of this bin
	Updated                  // a new revision
	Stale                    // older lifecycle state, or older evidence, than stored; ignored
)

// Merge decides how an incoming candle version changes the stored one (nil
// when none). The rules, shared by every store:
//   - a candle never moves back in its lifecycle (reconciled is not
//     overwritten by a trade-built candle);
//   - within a state short of reconciled, the newer evidence wins: a 1m
//     version built from less of the bin (less volume, or as much from
//     fewer trades) than the stored one is older, as when two collectors
//     write the same bin and one lags; the venue's own final values always
//     win, and a rollup always follows its minutes (it is derived from
//     what is stored);
//   - an identical replay changes nothing, so writes are idempotent;
//   - any other change becomes a new revision (Rev+1).
func Merge(old *Candle, in Candle) (out Candle, o Outcome) {
	if old == nil {
		in.Rev = 1
		return in, Inserted
	}
	if in.State < old.State || in.State == old.State && in.State < Reconciled && in.Interval == I1m && in.behind(*old) {
		return *old, Stale
	}
	if in.State == old.State && in.SameValues(*old) {
		return *old, Unchanged
	}
	in.Rev = old.Rev + 1
	return in, Updated
}

// wire is the native JSON form of a candle (see PRODUCT.md).
type wire struct {
	Venue    string   `json:"venue"`
	Symbol   string   `json:"symbol"`
	Interval Interval `json:"interval"`
	T        int64    `json:"t"`
	O        string   `json:"o"`
	H        string   `json:"h"`
	L        string   `json:"l"`
	C        string   `json:"c"`
	V        string   `json:"v"`
	Q        string   `json:"q"`
	N        int64    `json:"n"`
	Final    bool     `json:"final"`
	Rev      int64    `json:"rev"`
	State    string   `json:"state"`
	Source   Source   `json:"source"`
	Updated  int64    `json:"updated,omitempty"` // when this revision was stored, UTC ms
}

// MarshalJSON writes the native wire form; decimals are strings. "final"
// is true once the venue's own final value is stored (state reconciled); a
// bin that is over but still awaits it has state "closed" and final false.
func (c Candle) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire{
		Venue: c.Market.Venue, Symbol: c.Market.Symbol, Interval: c.Interval, T: c.OpenTime,
		O: c.Open.String(), H: c.High.String(), L: c.Low.String(), C: c.Close.String(),
		V: c.Volume.String(), Q: c.Quote.String(), N: c.Trades, Final: c.Final(), Rev: c.Rev,
		State: c.State.String(), Source: c.Source, Updated: c.Updated,
	})
}

// UnmarshalJSON reads the native wire form (MarshalJSON's), as the
// cluster's live bus carries it; the candle is checked (Validate).
func (c *Candle) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("candle: %w", err)
	}
	st, ok := map[string]State{"provisional": Provisional, "closed": Closed, "reconciled": Reconciled}[w.State]
	if !ok {
		return fmt.Errorf("candle: state %q", w.State)
	}
	out := Candle{Market: Market{Venue: w.Venue, Symbol: w.Symbol}, Interval: w.Interval, OpenTime: w.T, Trades: w.N,
		State: st, Rev: w.Rev, Source: w.Source, Updated: w.Updated}
	for _, f := range []struct {
		dst *Decimal
		s   string
	}{{&out.Open, w.O}, {&out.High, w.H}, {&out.Low, w.L}, {&out.Close, w.C}, {&out.Volume, w.V}, {&out.Quote, w.Q}} {
		d, err := ParseDecimal(f.s)
		if err != nil {
			return fmt.Errorf("candle: %w", err)
		}
		*f.dst = d
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*c = out
	return nil
}

// CSVHeader names the CSV columns of a candle: the fields of the native
// wire format.
var CSVHeader = []string{"venue", "symbol", "interval", "t", "o", "h", "l", "c", "v", "q", "n", "final", "rev"}

// CSVRecord is the candle as one CSV row under CSVHeader.
func (c Candle) CSVRecord() []string {
	return []string{c.Market.Venue, c.Market.Symbol, string(c.Interval), strconv.FormatInt(c.OpenTime, 10),
		c.Open.String(), c.High.String(), c.Low.String(), c.Close.String(), c.Volume.String(), c.Quote.String(),
		strconv.FormatInt(c.Trades, 10), strconv.FormatBool(c.Final()), strconv.FormatInt(c.Rev, 10)}
}

// Flat is the final 1m candle of a minute without trades: open, high, low
// and close at the previous close, no volume, no trades.
func Flat(m Market, open int64, close Decimal, src Source) Candle {
	return Candle{Market: m, Interval: I1m, OpenTime: open, Open: close, High: close, Low: close, Close: close,
		Volume: Zero, Quote: Zero, State: Reconciled, Source: src}
}
