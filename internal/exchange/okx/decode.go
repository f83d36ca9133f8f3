package okx

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/market"
)

// Venue is this venue's name in market identifiers.
const Venue = "okx"

// Channel names candlewire subscribes to.
const (
	ChannelCandles = "candle1m" // on /ws/v5/business
	ChannelTrades  = "trades"   // on /ws/v5/public
)

// Kind is what a decoded frame held.
type Kind int

// Frame kinds.
const (
	KindCandles Kind = iota + 1 // candle1m rows
	KindTrades                  // trades rows
	KindReply                   // a subscribe or unsubscribe acknowledgement
	KindError                   // an error event; Code and Msg say why
	KindPong                    // the text "pong"
	KindOther                   // a valid frame candlewire does not use
)

// Event is one decoded frame. Its slices belong to the Decoder and are
// valid until its next Decode.
type Event struct {
	Kind    Kind
	Channel string
	InstID  string
	Candles []market.Candle // KindCandles, oldest first
	Trades  []market.Trade  // KindTrades, in the venue's order
	Code    string          // KindError
	Msg     string          // KindError
	// Slow names the kind of trades or candles the Decoder's fast path left
	// to the full decoder (the venue changed the frame's form; it costs
	// CPU); "" otherwise.
	Slow string
}

// ErrDecode is wrapped by every decoding failure.
var ErrDecode = errors.New("okx: cannot decode frame")

type arg struct {
	Channel string `json:"channel"`
	InstID  string `json:"instId"`
}

type envelope struct {
	Event string          `json:"event"`
	Code  string          `json:"code"`
	Msg   string          `json:"msg"`
	Arg   *arg            `json:"arg"`
	Data  json.RawMessage `json:"data"`
}

type tradeRow struct {
	InstID  string `json:"instId"`
	TradeID string `json:"tradeId"`
	Px      string `json:"px"`
	Sz      string `json:"sz"`
	Side    string `json:"side"`
	Ts      string `json:"ts"`
	Count   string `json:"count"`
}

// Decoder decodes frames, reusing its buffers between calls. Trades and
// candles take a fast path that reads them in place without allocating;
// anything it does not fully understand, including every malformed frame,
// goes to the full decoder, so both give the same result
// (FuzzFastMatchesDecode checks it). A Decoder is used by one goroutine at
// a time.
type Decoder struct {
	candles []market.Candle
	trades  []market.Trade
	rows    []tradeRow
	ids     market.Interner // instrument ids, as markets and as they came
}

// Decode decodes one frame with a fresh Decoder, on the full path only.
func Decode(data []byte) (Event, error) {
	var d Decoder
	return d.full(data)
}

// Decode decodes one frame from either WebSocket endpoint.
func (d *Decoder) Decode(data []byte) (Event, error) {
	if ev, ok := d.fast(data); ok {
		return ev, nil
	}
	ev, err := d.full(data)
	if err == nil {
		ev.Slow = fastKinds[ev.Kind]
	}
	return ev, err
}

// full decodes one frame with go-json.
func (d *Decoder) full(data []byte) (Event, error) {
	if string(bytes.TrimSpace(data)) == "pong" {
		return Event{Kind: KindPong}, nil
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	switch {
	case env.Event == "error":
		return Event{Kind: KindError, Code: env.Code, Msg: env.Msg}, nil
	case env.Event == "subscribe" || env.Event == "unsubscribe":
		if env.Arg == nil {
			return Event{}, fmt.Errorf("%w: %s reply without arg", ErrDecode, env.Event)
		}
		return Event{Kind: KindReply, Channel: env.Arg.Channel, InstID: env.Arg.InstID}, nil
	case env.Event != "":
		return Event{Kind: KindOther}, nil
	case env.Arg == nil || env.Data == nil:
		return Event{}, fmt.Errorf("%w: neither an event nor channel data", ErrDecode)
	}
	ev := Event{Channel: env.Arg.Channel, InstID: env.Arg.InstID}
	switch env.Arg.Channel {
	case ChannelCandles:
		return d.candleEvent(ev, env.Data)
	case ChannelTrades:
		return d.tradeEvent(ev, env.Data)
	}
	ev.Kind = KindOther
	return ev, nil
}

func (d *Decoder) candleEvent(ev Event, data json.RawMessage) (Event, error) {
	var rows [][]string
	if err := json.Unmarshal(data, &rows); err != nil {
		return Event{}, fmt.Errorf("%w: %s %s rows: %v", ErrDecode, ev.Channel, ev.InstID, err)
	}
	d.candles = d.candles[:0]
	for _, row := range rows {
		c, err := CandleRow(ev.InstID, row, market.SourceKline)
		if err != nil {
			return Event{}, err
		}
		d.candles = append(d.candles, c)
	}
	ev.Kind, ev.Candles = KindCandles, d.candles
	return ev, nil
}

func (d *Decoder) tradeEvent(ev Event, data json.RawMessage) (Event, error) {
	d.rows = d.rows[:0]
	if err := json.Unmarshal(data, &d.rows); err != nil {
		return Event{}, fmt.Errorf("%w: trades %s: %v", ErrDecode, ev.InstID, err)
	}
	d.trades = d.trades[:0]
	for _, r := range d.rows {
		t, err := trade(r)
		if err != nil {
			return Event{}, err
		}
		d.trades = append(d.trades, t)
	}
	ev.Kind, ev.Trades = KindTrades, d.trades
	return ev, nil
}

// trade checks and converts one trades row.
func trade(r tradeRow) (market.Trade, error) {
	id, err1 := strconv.ParseInt(r.TradeID, 10, 64)
	ts, err2 := strconv.ParseInt(r.Ts, 10, 64)
	px, err3 := market.ParseDecimal(r.Px)
	sz, err4 := market.ParseDecimal(r.Sz)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return market.Trade{}, fmt.Errorf("%w: trade %s %s: %v", ErrDecode, r.InstID, r.TradeID, err)
	}
	if r.InstID == "" || id <= 0 || ts <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || (r.Side != "buy" && r.Side != "sell") {
		return market.Trade{}, fmt.Errorf("%w: trade %s %s: missing or invalid fields", ErrDecode, r.InstID, r.TradeID)
	}
	t := market.Trade{Market: Market(r.InstID), Time: ts, Price: px, Size: sz, Quote: market.Zero,
		Buy: r.Side == "buy", FirstSeq: id, LastSeq: id}
	if Spot(r.InstID) {
		t.Quote = px.Mul(sz)
	}
	return t, nil
}

// Market is the market of an OKX instrument id.
func Market(instID string) market.Market {
	return market.Market{Venue: Venue, Symbol: strings.ToUpper(instID)}
}

// Spot reports whether an instrument id is a spot pair (BASE-QUOTE), whose
// sizes are in the base currency; swaps, futures and options have more
// parts and sizes in contracts.
func Spot(instID string) bool { return strings.Count(instID, "-") == 1 }

// CandleRow converts one candle row (WebSocket or REST): [ts, o, h, l, c,
// vol, volCcy] or [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm].
func CandleRow(instID string, row []string, src market.Source) (market.Candle, error) {
	if len(row) != 7 && len(row) != 9 {
		return market.Candle{}, fmt.Errorf("%w: candle %s: %d fields, want 7 or 9", ErrDecode, instID, len(row))
	}
	ts, err := strconv.ParseInt(row[0], 10, 64)
	if err != nil {
		return market.Candle{}, fmt.Errorf("%w: candle %s: ts %q", ErrDecode, instID, row[0])
	}
	var v [7]market.Decimal
	for i := range 6 {
		if v[i], err = market.ParseDecimal(row[i+1]); err != nil {
			return market.Candle{}, fmt.Errorf("%w: candle %s %d field %d: %v", ErrDecode, instID, ts, i+1, err)
		}
	}
	quote := market.Zero
	switch {
	case len(row) == 9:
		if quote, err = market.ParseDecimal(row[7]); err != nil {
			return market.Candle{}, fmt.Errorf("%w: candle %s %d volCcyQuote: %v", ErrDecode, instID, ts, err)
		}
	case Spot(instID):
		quote = v[5]
	}
	c := market.Candle{Market: Market(instID), Interval: market.I1m, OpenTime: ts, Open: v[0], High: v[1], Low: v[2],
		Close: v[3], Volume: v[4], Quote: quote, State: market.Provisional, Source: src}
	if len(row) == 9 && row[8] == "1" {
		c.State = market.Reconciled
	}
	if err := c.Validate(); err != nil {
		return market.Candle{}, fmt.Errorf("%w: candle %s %d: %v", ErrDecode, instID, ts, err)
	}
	return c, nil
}

// fastKinds names the kinds the Decoder's fast path reads, for Slow.
var fastKinds = map[Kind]string{KindTrades: ChannelTrades, KindCandles: ChannelCandles}
