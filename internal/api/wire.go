package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// quote returns s as a JSON string.
func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// maxStreamName bounds a stream name (MARKET@INTERVAL) in bytes, and a
// /v1/candles market.
const maxStreamName = 64

// marketSet indexes the collected markets; nil when none are given.
func marketSet(ms []market.Market) map[market.Market]bool {
	if len(ms) == 0 {
		return nil
	}
	set := make(map[market.Market]bool, len(ms))
	for _, m := range ms {
		set[m] = true
	}
	return set
}

// stream reads one stream name and checks that it is served.
func (a *API) stream(name string) (hub.Stream, error) {
	if err := nameLength("stream", name); err != nil {
		return hub.Stream{}, err
	}
	st, err := market.ParseSeries(name)
	if err != nil {
		return hub.Stream{}, err
	}
	if !a.collected(st.Market) {
		return hub.Stream{}, fmt.Errorf("stream %q: market %s is not collected by this server", name, st.Market)
	}
	return st, nil
}

// collected reports whether m is served.
func (a *API) collected(m market.Market) bool { return a.markets == nil || a.markets[m] }

// nameLength refuses a name over maxStreamName bytes, naming its start.
func nameLength(what, name string) error {
	if len(name) <= maxStreamName {
		return nil
	}
	return fmt.Errorf("%s %q… (%d bytes): at most %d bytes", what, clip(name), len(name), maxStreamName)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) <= 32 {
		return s
	}
	return s[:32]
}

// streamsParam reads the streams of a request and checks their number.
func (a *API) streamsParam(q url.Values) ([]hub.Stream, error) {
	var out []hub.Stream
	for _, name := range strings.Split(q.Get("streams"), ",") {
		if strings.TrimSpace(name) == "" {
			continue
		}
		if len(out) == a.cfg.MaxStreams {
			return nil, fmt.Errorf("more than %d streams requested; at most %d per client", len(out), a.cfg.MaxStreams)
		}
		st, err := a.stream(name)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, errors.New("no streams given (want MARKET@INTERVAL,…, e.g. binance:BTCUSDT@1m)")
	}
	return out, nil
}

// aheadError is a cursor beyond the newest change stored: not one the
// server gave out.
type aheadError struct{ cursor, head int64 }

func (e *aheadError) Error() string {
	return fmt.Sprintf("cursor %d is ahead of the newest %d: resume from a cursor this server sent", e.cursor, e.head)
}

// staleError is a cursor the store's change log cannot resume from: of
// another epoch (the log was restored, truncated or replaced since), or
// older than its retention. Its client resyncs: it is sent the newest
// candles again, as one that had no cursor would be, and told why.
type staleError struct{ reason string }

func (e *staleError) Error() string { return e.reason }

// checkCursor refuses a cursor beyond the store's head (*aheadError), and
// finds one the change log cannot resume from (*staleError). The epoch is
// read after the window, which refreshes it where another process may
// change it.
func checkCursor(ctx context.Context, st store.Candles, cursor int64) error {
	floor, head, err := st.Window(ctx)
	if err != nil {
		return fmt.Errorf("read the store's head: %w", err)
	}
	return judgeCursor(cursor, st.Epoch(), floor, head)
}

// judgeCursor is checkCursor on a window already read.
func judgeCursor(cursor, epoch, floor, head int64) error {
	switch {
	case cursor == 0 && floor == 0: // from the start: every change the log has
	case cursor == 0:
		return &staleError{fmt.Sprintf("cursor 0 asks for every change, and the change log keeps them from %d: resync", floor)}
	case cursor > head && (cursor>>store.EpochShift == epoch || cursor>>store.EpochShift > store.MaxEpoch):
		return &aheadError{cursor, head} // no server gave it
	case cursor>>store.EpochShift != epoch:
		return &staleError{fmt.Sprintf("cursor %d is from another epoch of the change log (this is epoch %d): resync", cursor, epoch)}
	case cursor < floor:
		return &staleError{fmt.Sprintf("cursor %d is older than the change log keeps (from %d): resync", cursor, floor)}
	}
	return nil
}

// statusOf is the HTTP status, and WebSocket error code, of a failure to
// open a subscription: the client's mistake (400), or the store's (503).
func statusOf(err error) int {
	if _, ok := errors.AsType[*aheadError](err); ok {
		return codeBadRequest
	}
	return codeUnavailable
}

// cursorParam reads the cursor (a sequence number) given as name; ""
// means none.
func cursorParam(name, s string) (int64, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("%s %q: want a non-negative integer cursor from an earlier response", name, clip(s))
	}
	return n, true, nil
}

// intParam reads an optional integer within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q: want an integer from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

// durationParam reads an optional duration ("25s", or seconds) within (0, hi].
func durationParam(q url.Values, name string, def, hi time.Duration) (time.Duration, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, err2 := strconv.ParseFloat(s, 64)
		d, err = time.Duration(secs*float64(time.Second)), err2
	}
	if err != nil || d <= 0 || d > hi {
		return 0, fmt.Errorf("%s %q: want a duration up to %s", name, s, hi)
	}
	return d, nil
}
