package kraken

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/market"
)

// Venue is this venue's name in market identifiers.
const Venue = "kraken"

// Kind is what a decoded frame held.
type Kind int

// Frame kinds.
const (
	KindOHLC      Kind = iota + 1 // ohlc rows (snapshot or update), all Provisional
	KindTrades                    // trade rows
	KindReply                     // a method reply (subscribe); OK says whether it succeeded
	KindPong                      // the reply to a ping
	KindHeartbeat                 // a heartbeat, or v1's
	KindOther                     // a valid frame candlewire does not use
)

// Event is one decoded frame. Its slices belong to the Decoder and are
// valid until its next Decode.
type Event struct {
	Kind     Kind
	Snapshot bool            // KindOHLC: the rows are the snapshot sent on subscribe
	Candles  []market.Candle // KindOHLC
	Trades   []market.Trade  // KindTrades
	OK       bool            // KindReply
	Msg      string          // KindReply: the error, if any
	Symbol   string          // KindReply
	// Slow names the kind of trades or candles the Decoder's fast path left
	// to the full decoder (the venue changed the frame's form; it costs
	// CPU); "" otherwise.
	Slow string
}

// ErrDecode is wrapped by every decoding failure.
var ErrDecode = errors.New("kraken: cannot decode frame")

type envelope struct {
	Channel string          `json:"channel"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	Method  string          `json:"method"`
	Success *bool           `json:"success"`
	Error   string          `json:"error"`
	Result  *struct {
		Symbol string `json:"symbol"`
	} `json:"result"`
	Event string `json:"event"` // v1
}

type ohlcRow struct {
	Symbol        string      `json:"symbol"`
	Open          json.Number `json:"open"`
	High          json.Number `json:"high"`
	Low           json.Number `json:"low"`
	Close         json.Number `json:"close"`
	Trades        int64       `json:"trades"`
	Volume        json.Number `json:"volume"`
	VWAP          json.Number `json:"vwap"`
	IntervalBegin string      `json:"interval_begin"`
	Interval      int         `json:"interval"`
}

type tradeRow struct {
	Symbol    string      `json:"symbol"`
	Side      string      `json:"side"`
	Price     json.Number `json:"price"`
	Qty       json.Number `json:"qty"`
	TradeID   int64       `json:"trade_id"`
	Timestamp string      `json:"timestamp"`
}

// Decoder decodes frames, reusing its buffers between calls. Trades and
// ohlc take a fast path that reads them in place without allocating;
// anything it does not fully understand, including every malformed frame,
// goes to the full decoder, so both give the same result
// (FuzzFastMatchesDecode checks it). A Decoder is used by one goroutine at
// a time.
type Decoder struct {
	candles []market.Candle
	trades  []market.Trade
	ohlc    []ohlcRow
	rows    []tradeRow
	pairs   market.Interner
	ts      market.UTCMemo
	v1      [][4][]byte // v1 trade rows' price, volume, time and side
}

// Decode decodes one frame with a fresh Decoder, on the full path only.
func Decode(data []byte) (Event, error) {
	var d Decoder
	return d.full(data)
}

// Decode decodes one v2 frame, or a v1 frame of the recordings.
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
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		return d.decodeV1(data)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	switch {
	case env.Method == "pong":
		return Event{Kind: KindPong}, nil
	case env.Method != "" && env.Success != nil:
		e := Event{Kind: KindReply, OK: *env.Success, Msg: env.Error}
		if env.Result != nil {
			e.Symbol = env.Result.Symbol
		}
		return e, nil
	case env.Channel == "heartbeat" || env.Event == "heartbeat":
		return Event{Kind: KindHeartbeat}, nil
	case env.Channel == "ohlc" && env.Data != nil:
		return d.ohlcEvent(env)
	case env.Channel == "trade" && env.Data != nil:
		return d.tradeEvent(env.Data)
	case env.Channel != "" || env.Event != "" || env.Method != "":
		return Event{Kind: KindOther}, nil
	}
	return Event{}, fmt.Errorf("%w: no channel, method or event", ErrDecode)
}

func (d *Decoder) ohlcEvent(env envelope) (Event, error) {
	d.ohlc = d.ohlc[:0]
	if err := json.Unmarshal(env.Data, &d.ohlc); err != nil {
		return Event{}, fmt.Errorf("%w: ohlc: %v", ErrDecode, err)
	}
	d.candles = d.candles[:0]
	for _, r := range d.ohlc {
		if r.Interval != 1 {
			return Event{Kind: KindOther}, nil
		}
		begin, err := time.Parse(time.RFC3339Nano, r.IntervalBegin)
		if err != nil {
			return Event{}, fmt.Errorf("%w: ohlc %s: interval_begin %q", ErrDecode, r.Symbol, r.IntervalBegin)
		}
		c, err := Candle(r.Symbol, begin.UnixMilli(), [6]string{string(r.Open), string(r.High), string(r.Low), string(r.Close),
			string(r.Volume), string(r.VWAP)}, r.Trades, market.SourceKline)
		if err != nil {
			return Event{}, err
		}
		d.candles = append(d.candles, c)
	}
	return Event{Kind: KindOHLC, Snapshot: env.Type == "snapshot", Candles: d.candles}, nil
}

func (d *Decoder) tradeEvent(data json.RawMessage) (Event, error) {
	d.rows = d.rows[:0]
	if err := json.Unmarshal(data, &d.rows); err != nil {
		return Event{}, fmt.Errorf("%w: trade: %v", ErrDecode, err)
	}
	d.trades = d.trades[:0]
	for _, r := range d.rows {
		at, err := time.Parse(time.RFC3339Nano, r.Timestamp)
		if err != nil {
			return Event{}, fmt.Errorf("%w: trade %s %d: timestamp %q", ErrDecode, r.Symbol, r.TradeID, r.Timestamp)
		}
		t, err := trade(r.Symbol, string(r.Price), string(r.Qty), r.Side == "buy", r.Side == "buy" || r.Side == "sell", at.UnixMilli())
		if err != nil || r.TradeID <= 0 {
			return Event{}, fmt.Errorf("%w: trade %s %d: %v", ErrDecode, r.Symbol, r.TradeID, err)
		}
		t.FirstSeq, t.LastSeq = r.TradeID, r.TradeID
		d.trades = append(d.trades, t)
	}
	return Event{Kind: KindTrades, Trades: d.trades}, nil
}

// decodeV1 reads v1's channel arrays: [channelID, payload, channelName,
// pair]. Trades become trades (v1 trades have no id); the rest is other.
func (d *Decoder) decodeV1(data []byte) (Event, error) {
	var arr []json.RawMessage
	if err := json.Unmarshal(data, &arr); err != nil || len(arr) < 4 {
		return Event{}, fmt.Errorf("%w: v1 array of %d elements: %v", ErrDecode, len(arr), err)
	}
	var name, pair string
	if json.Unmarshal(arr[len(arr)-2], &name) != nil || json.Unmarshal(arr[len(arr)-1], &pair) != nil {
		return Event{}, fmt.Errorf("%w: v1 array without channel name and pair", ErrDecode)
	}
	if name != "trade" {
		return Event{Kind: KindOther}, nil
	}
	var rows [][]string
	if err := json.Unmarshal(arr[1], &rows); err != nil {
		return Event{}, fmt.Errorf("%w: v1 trade %s: %v", ErrDecode, pair, err)
	}
	d.trades = d.trades[:0]
	for _, r := range rows {
		if len(r) < 4 {
			return Event{}, fmt.Errorf("%w: v1 trade %s: %d fields", ErrDecode, pair, len(r))
		}
		secs, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			return Event{}, fmt.Errorf("%w: v1 trade %s: time %q", ErrDecode, pair, r[2])
		}
		t, err := trade(pair, r[0], r[1], r[3] == "b", r[3] == "b" || r[3] == "s", int64(secs*1000))
		if err != nil {
			return Event{}, err
		}
		d.trades = append(d.trades, t)
	}
	return Event{Kind: KindTrades, Trades: d.trades}, nil
}

func trade(pair, price, qty string, buy, sided bool, ms int64) (market.Trade, error) {
	px, err1 := market.ParseDecimal(price)
	sz, err2 := market.ParseDecimal(qty)
	if err := errors.Join(err1, err2); err != nil {
		return market.Trade{}, fmt.Errorf("%w: trade %s: %v", ErrDecode, pair, err)
	}
	if pair == "" || ms <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || !sided {
		return market.Trade{}, fmt.Errorf("%w: trade %s: missing or invalid fields", ErrDecode, pair)
	}
	return market.Trade{Market: Market(pair), Time: ms, Price: px, Size: sz, Quote: px.Mul(sz), Buy: buy}, nil
}

// Market is the market of a Kraken pair ("BTC/USD", v1's "XBT/USD").
func Market(pair string) market.Market {
	base, quote, _ := strings.Cut(strings.ToUpper(pair), "/")
	if base == "XBT" {
		base = "BTC"
	}
	return market.Market{Venue: Venue, Symbol: base + "-" + quote}
}

// Pair is the v2 wire name of a market: BTC-USD → "BTC/USD".
func Pair(m market.Market) string { return strings.Replace(m.Symbol, "-", "/", 1) }

// RESTPair is the REST name of a market: BTC-USD → "XBTUSD".
func RESTPair(m market.Market) string {
	base, quote, _ := strings.Cut(m.Symbol, "-")
	if base == "BTC" {
		base = "XBT"
	}
	return base + quote
}

// Candle builds and checks a provisional 1m candle from o, h, l, c,
// volume and vwap; its quote volume is vwap × volume.
func Candle(pair string, open int64, f [6]string, trades int64, src market.Source) (market.Candle, error) {
	var v [6]market.Decimal
	for i, s := range f {
		x, err := market.ParseDecimal(s)
		if err != nil {
			return market.Candle{}, fmt.Errorf("%w: ohlc %s %d: %v", ErrDecode, pair, open, err)
		}
		v[i] = x
	}
	c := market.Candle{Market: Market(pair), Interval: market.I1m, OpenTime: open, Open: v[0], High: v[1], Low: v[2],
		Close: v[3], Volume: v[4], Quote: v[5].Mul(v[4]), Trades: trades, State: market.Provisional, Source: src}
	if err := c.Validate(); err != nil {
		return market.Candle{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return c, nil
}

// fastKinds names the kinds the Decoder's fast path reads, for Slow.
var fastKinds = map[Kind]string{KindTrades: "trade", KindOHLC: "ohlc"}
