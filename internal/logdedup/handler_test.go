package logdedup

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// newLogger logs text without times through a Handler with a 10 s window.
func newLogger() (*slog.Logger, *Handler, *clock, *bytes.Buffer) {
	var b bytes.Buffer
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == "since" {
			return slog.Attr{}
		}
		return a
	}
	h := New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: noTime}), Options{Window: 10 * time.Second, Now: c.now})
	return slog.New(h), h, c, &b
}

func lines(b *bytes.Buffer) []string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestRepeatsAreSummarised: 400 identical errors in a 10 s window (the
// writer's 40 a second) log one line, then one summary when the window
// has passed and the next record comes.
func TestRepeatsAreSummarised(t *testing.T) {
	t.Parallel()
	log, _, c, b := newLogger()
	full := errors.New("database or disk is full")
	for range 400 {
		log.Error("store write failed; will retry", "err", full)
		c.add(time.Second / 40)
	}
	if got := lines(b); len(got) != 1 || got[0] != `level=ERROR msg="store write failed; will retry" err="database or disk is full"` {
		t.Fatalf("first window logged %q", got)
	}
	log.Info("candle final", "market", "binance:BTCUSDT")
	want := []string{
		`level=ERROR msg="store write failed; will retry" err="database or disk is full"`,
		`level=ERROR msg="store write failed; will retry (repeated 399 times)" err="database or disk is full" repeated=399`,
		`level=INFO msg="candle final" market=binance:BTCUSDT`,
	}
	if got := lines(b); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestWhatCountsAsARepeat: only the same level, message, attributes and
// logger attributes within the window are held back.
func TestWhatCountsAsARepeat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		second func(log *slog.Logger)
		logged int // lines after the first record and the second
	}{
		{"same", func(l *slog.Logger) { l.Warn("retry", "err", "full") }, 1},
		{"other error", func(l *slog.Logger) { l.Warn("retry", "err", "locked") }, 2},
		{"other message", func(l *slog.Logger) { l.Warn("retrying", "err", "full") }, 2},
		{"other level", func(l *slog.Logger) { l.Error("retry", "err", "full") }, 2},
		{"other logger attrs", func(l *slog.Logger) { l.With("component", "feed").Warn("retry", "err", "full") }, 2},
		{"in a group", func(l *slog.Logger) { l.WithGroup("g").Warn("retry", "err", "full") }, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log, _, _, b := newLogger()
			log.Warn("retry", "err", "full")
			tc.second(log)
			if got := lines(b); len(got) != tc.logged {
				t.Fatalf("%d lines, want %d: %q", len(got), tc.logged, got)
			}
		})
	}
}

// TestWindowsStartAgain: after a window has passed, the record is logged
// again; a record that was not repeated gets no summary.
func TestWindowsStartAgain(t *testing.T) {
	t.Parallel()
	log, h, c, b := newLogger()
	log.Warn("once")
	c.add(11 * time.Second)
	log.Warn("once")
	log.Warn("once")
	h.Close()
	want := []string{`level=WARN msg=once`, `level=WARN msg=once`, `level=WARN msg="once (repeated 1 times)" repeated=1`}
	if got := lines(b); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestSummaryKeepsLoggerAttrs: the summary goes to the handler that logged
// the record, with its logger's attributes, and honours Enabled.
func TestSummaryKeepsLoggerAttrs(t *testing.T) {
	t.Parallel()
	log, h, _, b := newLogger()
	feed := log.With("component", "feed")
	feed.Error("cannot connect", "venue", "binance")
	feed.Error("cannot connect", "venue", "binance")
	log.Debug("not logged at info")
	h.Close()
	want := `level=ERROR msg="cannot connect (repeated 1 times)" component=feed venue=binance repeated=1`
	if got := lines(b); len(got) != 2 || got[1] != want {
		t.Fatalf("got %q, want a second line %q", got, want)
	}
}

// TestConcurrentLoggers: loggers on many goroutines share one window.
func TestConcurrentLoggers(t *testing.T) {
	t.Parallel()
	log, h, _, b := newLogger()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				log.With("component", "writer").Error("store write failed", "err", "full")
			}
		})
	}
	wg.Wait()
	h.Close()
	if got := lines(b); len(got) != 2 || !strings.Contains(got[1], "repeated=799") {
		t.Fatalf("got %q", got)
	}
}

// TestNumbersDoNotCountInWarnings: a warning or error that differs only in
// the numbers of its values (a failing write whose batch grows) is a
// repeat; an info line that differs so is not.
func TestNumbersDoNotCountInWarnings(t *testing.T) {
	t.Parallel()
	log, _, _, b := newLogger()
	log.Error("store write failed", "err", "upsert 12 candles: database or disk is full")
	log.Error("store write failed", "err", "upsert 13 candles: database or disk is full")
	log.Info("gap found", "minutes", 3)
	log.Info("gap found", "minutes", 4)
	if got := lines(b); len(got) != 3 {
		t.Fatalf("%d lines, want the first error and both info lines: %q", len(got), got)
	}
}
