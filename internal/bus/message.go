package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/candlewire/candlewire/internal/market"
)

// StreamName is the JetStream stream of the live bus.
const StreamName = "CANDLEWIRE"

// subjectRoot is the first token of every change's subject.
const subjectRoot = "candles"

// Headers of a change's message.
const (
	hdrSeq  = "Candlewire-Seq"  // the change's sequence number (its cursor)
	hdrPrev = "Candlewire-Prev" // the sequence number of the change the relay published before it
)

// MaxMessage bounds a change's message; a longer one is refused unread.
const MaxMessage = 4096

// Subject is the subject of a series' changes:
// candles.VENUE.SYMBOL.INTERVAL, each token escaped (Token).
func Subject(sr market.Series) string {
	return subjectRoot + "." + Token(sr.Market.Venue) + "." + Token(sr.Market.Symbol) + "." + Token(string(sr.Interval))
}

// Token escapes s as one subject token: the bytes a subject gives a
// meaning to (. * > and whitespace), % and anything outside printable
// ASCII become %XX.
func Token(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return "%00" // never empty: an empty token is not a subject
	}
	return b.String()
}

// change is one message of the bus: a candle's new revision, its
// sequence number and the one published before it.
type change struct {
	candle    market.Candle
	seq, prev int64
}

// encode is the message of a change of store epoch epoch. Its Nats-Msg-Id
// (epoch:seq) makes a second publish of it harmless.
func encode(ch change, epoch int64) (*nats.Msg, error) {
	data, err := json.Marshal(ch.candle)
	if err != nil {
		return nil, fmt.Errorf("encode change %d: %w", ch.seq, err)
	}
	m := nats.NewMsg(Subject(market.SeriesOf(ch.candle)))
	m.Data = data
	m.Header.Set(nats.MsgIdHdr, strconv.FormatInt(epoch, 10)+":"+strconv.FormatInt(ch.seq, 10))
	m.Header.Set(hdrSeq, strconv.FormatInt(ch.seq, 10))
	m.Header.Set(hdrPrev, strconv.FormatInt(ch.prev, 10))
	return m, nil
}

// errMessage is a message that is not a change of the bus.
var errMessage = errors.New("not a change of the bus")

// decode reads a change from a message's headers and data.
func decode(h nats.Header, data []byte) (change, error) {
	if len(data) > MaxMessage {
		return change{}, fmt.Errorf("%w: %d bytes", errMessage, len(data))
	}
	seq, err1 := strconv.ParseInt(h.Get(hdrSeq), 10, 64)
	prev, err2 := strconv.ParseInt(h.Get(hdrPrev), 10, 64)
	if err := errors.Join(err1, err2); err != nil || seq <= 0 || prev < 0 || prev >= seq {
		return change{}, fmt.Errorf("%w: sequence %q after %q", errMessage, h.Get(hdrSeq), h.Get(hdrPrev))
	}
	var c market.Candle
	if err := json.Unmarshal(data, &c); err != nil {
		return change{}, fmt.Errorf("%w: %w", errMessage, err)
	}
	c.Seq = seq
	return change{candle: c, seq: seq, prev: prev}, nil
}
