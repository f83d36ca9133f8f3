// Package export writes stored candles out as CSV or JSON lines, reading
// the store a page at a time (`candlewire export`).
package export
