package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Bar is a bar for a span [from, to), drawn at most every 100 ms, each
// position named by its label.
type Bar struct {
	w        io.Writer
	tty      bool
	from, to int64
	label    func(at int64) string
	last     time.Time
}

// New is a bar for [from, to) on w, drawn only when w is a terminal.
func New(w io.Writer, from, to int64, label func(at int64) string) *Bar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &Bar{w: w, tty: tty, from: from, to: to, label: label}
}

// Update moves the bar to at.
func (b *Bar) Update(at int64) {
	if !b.tty || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	frac := 1.0
	if b.to > b.from {
		frac = float64(at-b.from) / float64(b.to-b.from)
	}
	n := int(frac * 40)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%% %s", strings.Repeat("#", n), strings.Repeat(" ", 40-n), frac*100, b.label(at))
}

// Stop draws the bar at at, where the work stopped short, and ends its
// line.
func (b *Bar) Stop(at int64) {
	if b.tty {
		b.last = time.Time{}
		b.Update(at)
		fmt.Fprintln(b.w)
	}
}

// Done draws the bar full and ends its line.
func (b *Bar) Done() {
	if b.tty {
		b.last = time.Time{}
		b.Update(b.to)
		fmt.Fprintln(b.w)
	}
}
