// Package export writes candles out as CSV, JSON lines or text lines
// (Writer), and reads stored ones a page at a time (Stream) for
// `candlewire export`; `candlewire watch` prints live ones with the same
// writers.
package export
