package coinbase

import (
	"errors"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/market"
)

// Venue is this venue's name in market identifiers.
const Venue = "coinbase"

// Kind is what a decoded frame held.
type Kind int

// Frame kinds.
const (
	KindMatch         Kind = iota + 1 // one trade (type "match")
	KindLastMatch                     // the latest trade, sent once per product on subscribe
	KindHeartbeat                     // a product's last trade id as of a time
	KindSubscriptions                 // the reply to a subscribe: every channel's products
	KindError                         // an error frame (Msg)
	KindOther                         // a valid frame candlewire does not use (ticker, level2, ...)
)

// Event is one decoded frame. Its slices belong to the Decoder and are
// valid until its next Decode.
type Event struct {
	Kind        Kind
	Trade       market.Trade  // KindMatch, KindLastMatch: FirstSeq and LastSeq are the trade_id
	Market      market.Market // KindError: the product a refused subscribe named, if any
	LastTradeID int64         // KindHeartbeat
	Time        int64         // KindHeartbeat: UTC ms
	Subscribed  []string
	Msg         string // KindError: message and reason
	// Slow names the kind of a match or heartbeat the Decoder's fast path
	// left to the full decoder (the venue changed the frame's form; it costs
	// CPU); "" otherwise.
	Slow string
}

// ErrDecode is wrapped by every decoding failure.
var ErrDecode = errors.New("coinbase: cannot decode frame")

type frame struct {
	Type        string      `json:"type"`
	TradeID     int64       `json:"trade_id"`
	Side        string      `json:"side"`
	Size        json.Number `json:"size"`
	Price       json.Number `json:"price"`
	ProductID   string      `json:"product_id"`
	Time        string      `json:"time"`
	LastTradeID int64       `json:"last_trade_id"`
	Message     string      `json:"message"`
	Reason      string      `json:"reason"`
	Channels    []channel   `json:"channels"`
}

type channel struct {
	Name       string   `json:"name"`
	ProductIDs []string `json:"product_ids"`
}

// Decoder decodes frames, reusing its buffers between calls. Matches and
// heartbeats take a fast path that reads them in place without
// allocating; anything it does not fully understand, including every
// malformed frame, goes to the full decoder, so both give the same result
// (FuzzFastMatchesDecode checks it). A Decoder is used by one goroutine at
// a time.
type Decoder struct {
	f          frame
	subscribed []string
	products   market.Interner
	ts         market.UTCMemo
}

// Decode decodes one frame with a fresh Decoder, on the full path only.
func Decode(data []byte) (Event, error) {
	var d Decoder
	return d.full(data)
}

// Decode decodes one feed frame. Unknown types are KindOther, as Coinbase
// asks: new message types may appear.
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
	d.f = frame{Channels: d.f.Channels[:0]}
	if err := json.Unmarshal(data, &d.f); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	f := &d.f
	switch f.Type {
	case "match", "last_match":
		t, err := Trade(f.ProductID, f.TradeID, string(f.Price), string(f.Size), f.Side, f.Time)
		if err != nil {
			return Event{}, err
		}
		k := KindMatch
		if f.Type == "last_match" {
			k = KindLastMatch
		}
		return Event{Kind: k, Trade: t, Market: t.Market}, nil
	case "heartbeat":
		at, err := time.Parse(time.RFC3339Nano, f.Time)
		if err != nil || f.ProductID == "" || f.LastTradeID < 0 {
			return Event{}, fmt.Errorf("%w: heartbeat %q: time %q, last_trade_id %d", ErrDecode, f.ProductID, f.Time, f.LastTradeID)
		}
		return Event{Kind: KindHeartbeat, Market: Market(f.ProductID), LastTradeID: f.LastTradeID, Time: at.UnixMilli()}, nil
	case "subscriptions":
		d.subscribed = d.subscribed[:0]
		for _, c := range f.Channels {
			if c.Name == "matches" {
				d.subscribed = append(d.subscribed, c.ProductIDs...)
			}
		}
		return Event{Kind: KindSubscriptions, Subscribed: d.subscribed}, nil
	case "error":
		e := Event{Kind: KindError, Msg: fmt.Sprintf("%s (%s)", f.Message, f.Reason)}
		if id, ok := strings.CutSuffix(f.Reason, " is not a valid product"); ok && id != "" {
			e.Market = Market(id) // Coinbase refused the whole subscribe for it
		}
		return e, nil
	case "":
		return Event{}, fmt.Errorf("%w: no type", ErrDecode)
	}
	return Event{Kind: KindOther}, nil
}

// Trade builds and checks one trade from a match, or a REST trade row.
// side is the maker's side: "sell" means the taker bought.
func Trade(product string, id int64, price, size, side, at string) (market.Trade, error) {
	px, err1 := market.ParseDecimal(price)
	sz, err2 := market.ParseDecimal(size)
	ts, err3 := time.Parse(time.RFC3339Nano, at)
	if err := errors.Join(err1, err2, err3); err != nil {
		return market.Trade{}, fmt.Errorf("%w: trade %s %d: %v", ErrDecode, product, id, err)
	}
	if product == "" || id <= 0 || px.Sign() <= 0 || sz.Sign() <= 0 || (side != "buy" && side != "sell") || ts.UnixMilli() <= 0 {
		return market.Trade{}, fmt.Errorf("%w: trade %s %d: missing or invalid fields", ErrDecode, product, id)
	}
	return market.Trade{Market: Market(product), Time: ts.UnixMilli(), Price: px, Size: sz, Quote: px.Mul(sz),
		Buy: side == "sell", FirstSeq: id, LastSeq: id}, nil
}

// Market is the market of a product id.
func Market(product string) market.Market { return market.Market{Venue: Venue, Symbol: product} }

// fastKinds names the kinds the Decoder's fast path reads, for Slow.
var fastKinds = map[Kind]string{KindMatch: "match", KindHeartbeat: "heartbeat"}
