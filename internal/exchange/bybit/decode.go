package bybit

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
const Venue = "bybit"

// Topics candlewire subscribes to, per symbol.
const (
	TopicKline = "kline.1."
	TopicTrade = "publicTrade."
)

// Kind is what a decoded frame held.
type Kind int

// Frame kinds.
const (
	KindKline  Kind = iota + 1 // kline.1 rows
	KindTrades                 // publicTrade rows
	KindReply                  // an op reply (subscribe); OK says whether it succeeded
	KindPong                   // a reply to the op ping, in either of Bybit's shapes
	KindOther                  // a valid frame candlewire does not use
)

// Event is one decoded frame. Its slices belong to the Decoder and are
// valid until its next Decode.
type Event struct {
	Kind    Kind
	Topic   string
	Candles []market.Candle // KindKline
	Trades  []market.Trade  // KindTrades
	OK      bool            // KindReply
	Msg     string          // KindReply: ret_msg
	Op      string          // KindReply: the op answered
	// Slow names the kind of trades or klines the Decoder's fast path left
	// to the full decoder (the venue changed the frame's form; it costs
	// CPU); "" otherwise.
	Slow string
}

// ErrDecode is wrapped by every decoding failure.
var ErrDecode = errors.New("bybit: cannot decode frame")

type envelope struct {
	Topic   string          `json:"topic"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	Op      string          `json:"op"`
	Success *bool           `json:"success"`
	RetMsg  string          `json:"ret_msg"`
}

type klineRow struct {
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	Interval string `json:"interval"`
	Open     string `json:"open"`
	Close    string `json:"close"`
	High     string `json:"high"`
	Low      string `json:"low"`
	Volume   string `json:"volume"`
	Turnover string `json:"turnover"`
	Confirm  bool   `json:"confirm"`
}

// tradeRow declares every key: the decoder matches keys exactly.
type tradeRow struct {
	T  int64  `json:"T"`
	S  string `json:"s"`
	Sd string `json:"S"`
	V  string `json:"v"`
	P  string `json:"p"`
	I  string `json:"i"`
}

// Decoder decodes frames, reusing its buffers between calls. Trades and
// klines take a fast path that reads them in place without allocating;
// anything it does not fully understand, including every malformed frame,
// goes to the full decoder, so both give the same result
// (FuzzFastMatchesDecode checks it). A Decoder is used by one goroutine at
// a time.
type Decoder struct {
	candles []market.Candle
	trades  []market.Trade
	klines  []klineRow
	rows    []tradeRow
	syms    market.Interner // symbols
	topics  market.Interner // topics, as they came
}

// Decode decodes one frame with a fresh Decoder, on the full path only.
func Decode(data []byte) (Event, error) {
	var d Decoder
	return d.full(data)
}

// Decode decodes one frame.
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
	var env envelope
	if err := json.Unmarshal(bytes.TrimSpace(data), &env); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	switch {
	case env.Op == "pong" || (env.Op == "ping" && env.RetMsg == "pong"):
		return Event{Kind: KindPong}, nil
	case env.Op != "" && env.Success != nil:
		return Event{Kind: KindReply, Op: env.Op, OK: *env.Success, Msg: env.RetMsg}, nil
	case env.Topic == "" || env.Data == nil:
		if env.Op != "" {
			return Event{Kind: KindOther}, nil
		}
		return Event{}, fmt.Errorf("%w: neither a reply nor topic data", ErrDecode)
	}
	ev := Event{Topic: env.Topic}
	switch {
	case strings.HasPrefix(env.Topic, TopicKline):
		return d.klineEvent(ev, env.Data)
	case strings.HasPrefix(env.Topic, TopicTrade):
		return d.tradeEvent(ev, env.Data)
	}
	ev.Kind = KindOther
	return ev, nil
}

func (d *Decoder) klineEvent(ev Event, data json.RawMessage) (Event, error) {
	d.klines = d.klines[:0]
	if err := json.Unmarshal(data, &d.klines); err != nil {
		return Event{}, fmt.Errorf("%w: %s: %v", ErrDecode, ev.Topic, err)
	}
	symbol := strings.TrimPrefix(ev.Topic, TopicKline)
	d.candles = d.candles[:0]
	for _, k := range d.klines {
		if k.End != k.Start+market.I1m.Millis()-1 || k.Interval != "1" {
			return Event{}, fmt.Errorf("%w: %s: kline %d..%d interval %q is not one minute", ErrDecode, ev.Topic, k.Start, k.End, k.Interval)
		}
		c, err := klineCandle(symbol, k.Start, [6]string{k.Open, k.High, k.Low, k.Close, k.Volume, k.Turnover}, market.SourceKline)
		if err != nil {
			return Event{}, err
		}
		if k.Confirm {
			c.State = market.Reconciled
		}
		d.candles = append(d.candles, c)
	}
	ev.Kind, ev.Candles = KindKline, d.candles
	return ev, nil
}

func (d *Decoder) tradeEvent(ev Event, data json.RawMessage) (Event, error) {
	d.rows = d.rows[:0]
	if err := json.Unmarshal(data, &d.rows); err != nil {
		return Event{}, fmt.Errorf("%w: %s: %v", ErrDecode, ev.Topic, err)
	}
	d.trades = d.trades[:0]
	for _, r := range d.rows {
		px, err1 := market.ParseDecimal(r.P)
		sz, err2 := market.ParseDecimal(r.V)
		if err := errors.Join(err1, err2); err != nil {
			return Event{}, fmt.Errorf("%w: trade %s %s: %v", ErrDecode, r.S, r.I, err)
		}
		if r.S == "" || r.T <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || (r.Sd != "Buy" && r.Sd != "Sell") {
			return Event{}, fmt.Errorf("%w: trade %s %s: missing or invalid fields", ErrDecode, r.S, r.I)
		}
		d.trades = append(d.trades, market.Trade{Market: Market(r.S), Time: r.T, Price: px, Size: sz, Quote: px.Mul(sz), Buy: r.Sd == "Buy"})
	}
	ev.Kind, ev.Trades = KindTrades, d.trades
	return ev, nil
}

// Market is the market of a Bybit symbol.
func Market(symbol string) market.Market {
	return market.Market{Venue: Venue, Symbol: strings.ToUpper(symbol)}
}

// candle builds and checks a provisional 1m candle from o, h, l, c,
// volume and turnover.
func klineCandle(symbol string, open int64, f [6]string, src market.Source) (market.Candle, error) {
	var v [6]market.Decimal
	for i, s := range f {
		d, err := market.ParseDecimal(s)
		if err != nil {
			return market.Candle{}, fmt.Errorf("%w: kline %s %d: %v", ErrDecode, symbol, open, err)
		}
		v[i] = d
	}
	c := market.Candle{Market: Market(symbol), Interval: market.I1m, OpenTime: open, Open: v[0], High: v[1], Low: v[2],
		Close: v[3], Volume: v[4], Quote: v[5], State: market.Provisional, Source: src}
	if err := c.Validate(); err != nil {
		return market.Candle{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return c, nil
}

// restKline converts one REST row [startTime, open, high, low, close,
// volume, turnover] (strings).
func restKline(symbol string, row []string) (market.Candle, error) {
	if len(row) != 7 {
		return market.Candle{}, fmt.Errorf("%w: kline row of %d fields, want 7", ErrDecode, len(row))
	}
	open, err := strconv.ParseInt(row[0], 10, 64)
	if err != nil {
		return market.Candle{}, fmt.Errorf("%w: kline start %q", ErrDecode, row[0])
	}
	return klineCandle(symbol, open, [6]string(row[1:7]), market.SourceREST)
}

// fastKinds names the kinds the Decoder's fast path reads, for Slow.
var fastKinds = map[Kind]string{KindTrades: "publicTrade", KindKline: "kline"}
