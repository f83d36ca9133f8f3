package cli

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// logFlags are a command's --log (level) and --log-format (text, or json
// for one object per line: slog's two handlers). Unset, they fall back to
// the config file's log and log_format, then to the command's default
// level and text.
type logFlags struct {
	level, format string
	fallback      string // the command's default level
}

func (l *logFlags) register(fs *flag.FlagSet, level string) {
	l.fallback = level
	fs.StringVar(&l.level, "log", "", "log level: debug, info, warn, error (default "+level+")")
	fs.StringVar(&l.format, "log-format", "", "log lines as text (key=value) or json (one object per line); default text")
}

// withConfig takes the config file's level and format where the flags
// left them unset.
func (l *logFlags) withConfig(level, format string) {
	l.level, l.format = cmp.Or(l.level, level), cmp.Or(l.format, format)
}

// logger writes to w as the flags say; a level or format it does not know
// is a command-line mistake.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	h, err := l.handler(w)
	if err != nil {
		return nil, err
	}
	return slog.New(h), nil
}

func (l *logFlags) handler(w io.Writer) (slog.Handler, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(cmp.Or(l.level, l.fallback))); err != nil {
		return nil, misuse{fmt.Sprintf("--log %q: want debug, info, warn or error", l.level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch l.format {
	case "", "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, misuse{fmt.Sprintf("--log-format %q: want text or json", l.format)}
}
