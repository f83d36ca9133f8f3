package bitmex

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/candlewire/candlewire/internal/market"
)

// Venue is this venue's name in market identifiers.
const Venue = "bitmex"

// Kind is what a decoded frame held.
type Kind int

// Frame kinds.
const (
	KindWelcome Kind = iota + 1
	KindAck          // subscribe/unsubscribe reply
	KindError        // an error reply
	KindTable        // table data
	KindPong         // the bare text "pong"
)

// Event is one decoded frame.
type Event struct {
	Kind    Kind
	Welcome *Welcome // a KindWelcome frame's; nil otherwise
	Ack     *Ack     // a KindAck frame's; nil otherwise
	Err     *APIError
	Table   string // e.g. trade, tradeBin1m
	Action  string // partial, insert, update, delete
	Trades  []market.Trade
	Bins    []market.Candle // Reconciled, keyed by open time (stamp - bin size)
	Skipped int             // rows skipped (another pool, missing fields)
	// Slow names the table of a trade or tradeBin1m insert the Decoder's
	// fast path left to the full decoder (the venue changed the frame's
	// form; it costs CPU); "" otherwise.
	Slow string
}

// Welcome is the first frame of a connection. Every field but Info may be
// missing (2026 welcomes have no limit).
type Welcome struct {
	Info      string `json:"info"`
	Version   string `json:"version"`
	Timestamp string `json:"timestamp"`
	Limit     *struct {
		Remaining int `json:"remaining"`
	} `json:"limit"`
}

// Ack is a subscription reply.
type Ack struct {
	Success     bool   `json:"success"`
	Subscribe   string `json:"subscribe"`
	Unsubscribe string `json:"unsubscribe"`
}

// APIError is an error reply, e.g. 400 unknown table or 429 rate limit.
type APIError struct {
	Status     int
	Message    string
	RetryAfter time.Duration // from meta.retryAfter or the message, for 429
}

func (e *APIError) Error() string { return fmt.Sprintf("bitmex error %d: %s", e.Status, e.Message) }

// ErrDecode is wrapped by every decoding failure.
var ErrDecode = errors.New("bitmex: cannot decode frame")

type frame struct {
	Table       string          `json:"table"`
	Action      string          `json:"action"`
	Data        json.RawMessage `json:"data"`
	Info        *string         `json:"info"`
	Success     *bool           `json:"success"`
	Subscribe   string          `json:"subscribe"`
	Unsubscribe string          `json:"unsubscribe"`
	Error       json.RawMessage `json:"error"`
	Status      int             `json:"status"`
	Meta        struct {
		RetryAfter json.Number `json:"retryAfter"`
	} `json:"meta"`
}

// binSizes are the tradeBin tables and their widths.
var binSizes = map[string]market.Interval{"tradeBin1m": market.I1m, "tradeBin5m": market.I5m, "tradeBin1h": market.I1h, "tradeBin1d": market.I1d}

// Decode decodes one frame, using the same dispatch as BitMEX's own
// adapter: table ⇒ data; subscribe/success ⇒ ack; error ⇒ error; info ⇒
// welcome.
func Decode(data []byte) (Event, error) {
	if string(bytes.TrimSpace(data)) == "pong" {
		return Event{Kind: KindPong}, nil
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	switch {
	case f.Table != "":
		return decodeTable(f)
	case f.Success != nil || f.Subscribe != "" || f.Unsubscribe != "":
		return Event{Kind: KindAck, Ack: &Ack{Success: f.Success != nil && *f.Success, Subscribe: f.Subscribe, Unsubscribe: f.Unsubscribe}}, nil
	case len(f.Error) > 0:
		return Event{Kind: KindError, Err: decodeError(f)}, nil
	case f.Info != nil:
		var w Welcome
		if err := json.Unmarshal(data, &w); err != nil {
			return Event{}, fmt.Errorf("%w: welcome: %v", ErrDecode, err)
		}
		return Event{Kind: KindWelcome, Welcome: &w}, nil
	}
	return Event{}, fmt.Errorf("%w: no table, ack, error or welcome", ErrDecode)
}

// decodeError reads both error shapes: a plain string and {"message","name"}.
func decodeError(f frame) *APIError {
	e := &APIError{Status: f.Status}
	var s string
	if json.Unmarshal(f.Error, &s) == nil {
		e.Message = s
	} else {
		var obj struct {
			Message string `json:"message"`
			Name    string `json:"name"`
		}
		json.Unmarshal(f.Error, &obj) //nolint:errcheck // an unreadable error keeps an empty message
		e.Message = strings.TrimSpace(obj.Name + ": " + obj.Message)
	}
	if strings.HasPrefix(e.Message, "Rate limit exceeded") && e.Status == 0 {
		e.Status = 429
	}
	if n, err := f.Meta.RetryAfter.Int64(); err == nil {
		e.RetryAfter = time.Duration(n) * time.Second
	} else {
		var secs int
		if _, err := fmt.Sscanf(afterWord(e.Message, "retry in"), "%d", &secs); err == nil {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}

func afterWord(s, w string) string {
	if i := strings.Index(s, w); i >= 0 {
		return strings.TrimSpace(s[i+len(w):])
	}
	return ""
}

func decodeTable(f frame) (Event, error) {
	ev := Event{Kind: KindTable, Table: f.Table, Action: f.Action}
	switch f.Action {
	case "partial", "insert", "update", "delete":
	default:
		return Event{}, fmt.Errorf("%w: table %s: unknown action %q", ErrDecode, f.Table, f.Action)
	}
	if f.Action == "delete" || len(f.Data) == 0 {
		return ev, nil
	}
	var err error
	switch iv, isBin := binSizes[f.Table]; {
	case f.Table == "trade":
		ev.Trades, ev.Skipped, err = decodeTrades(f.Data)
	case isBin:
		ev.Bins, ev.Skipped, err = decodeBins(f.Data, iv, market.SourceBin)
	}
	return ev, err
}
