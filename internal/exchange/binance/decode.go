package binance

import (
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"strings"

	"github.com/candlewire/candlewire/internal/market"
)

// Venue is this venue's name in market identifiers.
const Venue = "binance"

// Kind is what a decoded frame held.
type Kind int

// Frame kinds.
const (
	KindTrade    Kind = iota + 1 // an aggTrade
	KindKline                    // a kline push
	KindReply                    // a reply to SUBSCRIBE and friends
	KindShutdown                 // serverShutdown: reconnect now
	KindOther                    // a valid frame we do not use
)

// Event is one decoded frame.
type Event struct {
	Kind   Kind
	Trade  market.Trade
	Candle market.Candle // for KindKline; Reconciled when the kline is closed (x:true)
	ID     int64         // for KindReply
	Time   int64         // event time E, UTC ms, when present
	// Slow names the kind of a trade or kline the Decoder's fast path left
	// to the full decoder (the venue changed the frame's form; it costs
	// CPU); "" otherwise.
	Slow string
}

// ErrDecode is wrapped by every decoding failure.
var ErrDecode = errors.New("binance: cannot decode frame")

type envelope struct {
	Stream string          `json:"stream"`
	Data   json.RawMessage `json:"data"`
	// Method replies and errors.
	Result json.RawMessage `json:"result"`
	ID     *int64          `json:"id"`
	Code   *int            `json:"code"`
	Msg    string          `json:"msg"`
	// A raw (non-combined) event. "E" is declared so that encoding/json's
	// case-insensitive matching cannot put it into e.
	E  string          `json:"e"`
	ET json.RawMessage `json:"E"`
}

type header struct {
	E  string `json:"e"`
	ET int64  `json:"E"`
}

// aggTrade declares every key, including ones we ignore, because
// encoding/json would otherwise match "M" to m and so on.
type aggTrade struct {
	E  string `json:"e"`
	ET int64  `json:"E"`
	S  string `json:"s"`
	A  int64  `json:"a"`
	P  string `json:"p"`
	Q  string `json:"q"`
	F  int64  `json:"f"`
	L  int64  `json:"l"`
	T  int64  `json:"T"`
	M  bool   `json:"m"`
	MI bool   `json:"M"`
}

type klineBody struct {
	T      int64  `json:"t"`
	CloseT int64  `json:"T"`
	S      string `json:"s"`
	I      string `json:"i"`
	F      int64  `json:"f"`
	LastID int64  `json:"L"`
	O      string `json:"o"`
	C      string `json:"c"`
	H      string `json:"h"`
	Low    string `json:"l"`
	V      string `json:"v"`
	N      int64  `json:"n"`
	X      bool   `json:"x"`
	Q      string `json:"q"`
	TV     string `json:"V"`
	TQ     string `json:"Q"`
	B      string `json:"B"`
}

type kline struct {
	E  string    `json:"e"`
	ET int64     `json:"E"`
	S  string    `json:"s"`
	K  klineBody `json:"k"`
}

// Decode decodes one frame from a combined or raw stream.
func Decode(data []byte) (Event, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	switch {
	case env.Code != nil:
		return Event{}, fmt.Errorf("%w: error reply %d: %s", ErrDecode, *env.Code, env.Msg)
	case env.Data != nil:
		return decodeEvent(env.Data)
	case env.E != "":
		return decodeEvent(data)
	case env.ID != nil:
		return Event{Kind: KindReply, ID: *env.ID}, nil
	}
	return Event{}, fmt.Errorf("%w: no event, reply or data", ErrDecode)
}

func decodeEvent(data []byte) (Event, error) {
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	switch h.E {
	case "aggTrade":
		return decodeAggTrade(data)
	case "kline":
		return decodeKline(data)
	case "serverShutdown":
		return Event{Kind: KindShutdown, Time: h.ET}, nil
	}
	return Event{Kind: KindOther, Time: h.ET}, nil
}

func decodeAggTrade(data []byte) (Event, error) {
	var a aggTrade
	if err := json.Unmarshal(data, &a); err != nil {
		return Event{}, fmt.Errorf("%w: aggTrade: %v", ErrDecode, err)
	}
	price, err1 := market.ParseDecimal(a.P)
	size, err2 := market.ParseDecimal(a.Q)
	switch {
	case err1 != nil || err2 != nil:
		return Event{}, fmt.Errorf("%w: aggTrade %d: %v", ErrDecode, a.A, errors.Join(err1, err2))
	case a.S == "" || a.T <= 0 || price.Sign() <= 0 || size.Sign() < 0 || a.F <= 0 || a.L < a.F:
		return Event{}, fmt.Errorf("%w: aggTrade %d: missing or invalid fields", ErrDecode, a.A)
	}
	return Event{Kind: KindTrade, Time: a.ET, Trade: market.Trade{
		Market: market.Market{Venue: Venue, Symbol: strings.ToUpper(a.S)}, Time: a.T,
		Price: price, Size: size, Quote: price.Mul(size), FirstSeq: a.F, LastSeq: a.L, Buy: !a.M,
	}}, nil
}

func decodeKline(data []byte) (Event, error) {
	var k kline
	if err := json.Unmarshal(data, &k); err != nil {
		return Event{}, fmt.Errorf("%w: kline: %v", ErrDecode, err)
	}
	b := k.K
	if b.I != "1m" {
		return Event{Kind: KindOther, Time: k.ET}, nil
	}
	c, err := candleFrom(b.S, b.T, b.CloseT, [6]string{b.O, b.H, b.Low, b.C, b.V, b.Q}, b.N)
	if err != nil {
		return Event{}, err
	}
	c.Source, c.LastSeq = market.SourceKline, max(b.LastID, 0)
	if b.X {
		c.State = market.Reconciled
	}
	return Event{Kind: KindKline, Time: k.ET, Candle: c}, nil
}

// candleFrom builds and checks a 1m candle from kline fields (stream or REST).
func candleFrom(symbol string, open, closeT int64, f [6]string, n int64) (market.Candle, error) {
	var v [6]market.Decimal
	for i, s := range f {
		d, err := market.ParseDecimal(s)
		if err != nil {
			return market.Candle{}, fmt.Errorf("%w: kline %s %d: %v", ErrDecode, symbol, open, err)
		}
		v[i] = d
	}
	c := market.Candle{Market: market.Market{Venue: Venue, Symbol: strings.ToUpper(symbol)}, Interval: market.I1m,
		OpenTime: open, Open: v[0], High: v[1], Low: v[2], Close: v[3], Volume: v[4], Quote: v[5], Trades: n,
		State: market.Provisional}
	if closeT != open+market.I1m.Millis()-1 {
		return market.Candle{}, fmt.Errorf("%w: kline %s %d: close time %d is not open+59999", ErrDecode, symbol, open, closeT)
	}
	if err := c.Validate(); err != nil {
		return market.Candle{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return c, nil
}
