package logdedup

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// DefaultWindow is how long repeats of a record are held back by default.
const DefaultWindow = 10 * time.Second

// Options configure a Handler.
type Options struct {
	// Window is how long identical records after the first are counted
	// instead of logged (default DefaultWindow).
	Window time.Duration
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Handler passes records to the next handler, dropping repeats: records
// with the same level, message and attributes (the logger's too) as one
// logged less than a window ago. When the window of a repeated record has
// passed, the next record handled (or Close) logs a summary of it: its
// message with " (repeated N times)" and the attributes repeated=N and
// since=<time of the first>.
type Handler struct {
	next  slog.Handler
	scope string // the attributes and groups added with WithAttrs and WithGroup
	s     *state
}

// state is shared by a handler and those derived from it.
type state struct {
	mu     sync.Mutex
	window time.Duration
	now    func() time.Time
	seen   map[string]*run
	order  []string // keys of seen, oldest window first
}

// run is one record's window: when its first copy was logged and how many
// copies were held back since.
type run struct {
	first    slog.Record
	next     slog.Handler
	start    time.Time
	repeated int
}

// New wraps next.
func New(next slog.Handler, o Options) *Handler {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{next: next, s: &state{window: o.Window, now: o.Now, seen: map[string]*run{}}}
}

// Enabled reports whether the next handler logs at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle logs r unless it repeats a record logged within the window.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	k := h.key(r)
	now := h.s.now()
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.sweep(ctx, now)
	if w, ok := h.s.seen[k]; ok {
		w.repeated++
		return nil
	}
	h.s.seen[k] = &run{first: r.Clone(), next: h.next, start: now}
	h.s.order = append(h.s.order, k)
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a handler whose records carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range attrs {
		writeAttr(&b, a, false)
	}
	return &Handler{next: h.next.WithAttrs(attrs), scope: h.scope + b.String(), s: h.s}
}

// WithGroup returns a handler that puts later attributes in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), scope: h.scope + "[" + name + "]", s: h.s}
}

// Close logs the summaries of records still held back.
func (h *Handler) Close() {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.expire(context.Background(), func(*run) bool { return true })
}

// sweep ends the windows that have passed, logging their summaries.
func (s *state) sweep(ctx context.Context, now time.Time) {
	s.expire(ctx, func(w *run) bool { return now.Sub(w.start) >= s.window })
}

// expire ends windows, oldest first, while over says they are over.
func (s *state) expire(ctx context.Context, over func(*run) bool) {
	for len(s.order) > 0 && over(s.seen[s.order[0]]) {
		w := s.seen[s.order[0]]
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
		if w.repeated > 0 {
			w.next.Handle(ctx, summary(w, s.now())) //nolint:errcheck // a log line that cannot be written has nowhere to go
		}
	}
}

// summary is the record that stands for a window's held-back repeats.
func summary(w *run, now time.Time) slog.Record {
	r := slog.NewRecord(now, w.first.Level, fmt.Sprintf("%s (repeated %d times)", w.first.Message, w.repeated), 0)
	w.first.Attrs(func(a slog.Attr) bool { r.AddAttrs(a); return true })
	r.AddAttrs(slog.Int("repeated", w.repeated), slog.Time("since", w.start))
	return r
}

// key identifies a record for comparison: level, message, and every
// attribute with the logger's scope. For warnings and errors, numbers in
// attribute values do not count: a failing write whose batch grows
// ("upsert 12 candles", "upsert 13 candles") is one repeated error.
func (h *Handler) key(r slog.Record) string {
	var b strings.Builder
	b.WriteString(h.scope)
	fmt.Fprintf(&b, "\x00%d\x00%s", r.Level, r.Message)
	mask := r.Level >= slog.LevelWarn
	r.Attrs(func(a slog.Attr) bool { writeAttr(&b, a, mask); return true })
	return b.String()
}

func writeAttr(b *strings.Builder, a slog.Attr, mask bool) {
	v := fmt.Sprint(a.Value.Resolve())
	if mask {
		v = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '#'
			}
			return r
		}, v)
	}
	fmt.Fprintf(b, "\x00%s=%s", a.Key, v)
}
