package bitmexwire

import (
	"encoding/json"
	"time"
)

// Timestamp formats ms as BitMEX writes times: UTC, milliseconds, "Z".
func Timestamp(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }

// ParseArgs reads the args of an op:subscribe or op:unsubscribe request:
// an array of topics or a bare topic, as BitMEX accepts both.
func ParseArgs(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}
