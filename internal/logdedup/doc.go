// Package logdedup is a slog.Handler that lets the first of a run of
// identical records through and holds back its repeats for a window, then
// logs one summary ("repeated N times") instead of them. A store that
// fails every write, or a feed that retries every few milliseconds, says
// so once per window, not forty times a second.
package logdedup
