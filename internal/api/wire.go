package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
)

// quote returns s as a JSON string.
func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// streamsParam reads the streams of a request and checks their number.
func (a *API) streamsParam(q url.Values) ([]hub.Stream, error) {
	streams, err := market.ParseSeriesList(q.Get("streams"))
	if err != nil {
		return nil, err
	}
	if len(streams) > a.cfg.MaxStreams {
		return nil, fmt.Errorf("%d streams requested; at most %d per client", len(streams), a.cfg.MaxStreams)
	}
	return streams, nil
}

// cursorParam reads a cursor (a sequence number); "" means none.
func cursorParam(s string) (int64, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("cursor %q: want a non-negative integer from an earlier response", s)
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
