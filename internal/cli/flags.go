package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/candlewire/candlewire/internal/spell"
)

// misuse is a command-line mistake told in one line with a hint; it is an
// errUsage (exit status 2).
type misuse struct{ msg string }

func (m misuse) Error() string        { return m.msg }
func (m misuse) Is(target error) bool { return target == errUsage }

// parseArgs parses a command's flags wherever they stand among its
// arguments (`watch bitmex:XBTUSD --sim` as well as `watch --sim
// bitmex:XBTUSD`) and returns the arguments in order; after "--" every
// word is an argument. -h and --help print the command's flags and return
// flag.ErrHelp. Any other mistake is one line naming it, with a hint.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parseOnce(fs, args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if used := len(args) - len(left); used > 0 && args[used-1] == "--" {
			return append(rest, left...), nil
		}
		if len(left) == 0 {
			return rest, nil
		}
		rest, args = append(rest, left[0]), left[1:]
	}
}

// parseFlags is parseArgs for a command that takes no arguments: any is a
// mistake.
func parseFlags(fs *flag.FlagSet, args []string) error {
	rest, err := parseArgs(fs, args)
	if err == nil && len(rest) > 0 {
		err = misuse{fmt.Sprintf("unexpected argument %q (%s takes flags only)\n%s", rest[0], fs.Name(), helpHint(fs))}
	}
	return err
}

// parseOnce parses up to the first argument, keeping the flag package's
// own usage dump for -h alone.
func parseOnce(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage() // the command's own, or the flag package's list of its flags
		return err
	}
	return misuse{explain(fs, err.Error()) + "\n" + helpHint(fs)}
}

func helpHint(fs *flag.FlagSet) string {
	return fmt.Sprintf("Run '%s -h' for its flags.", fs.Name())
}

// explain rewrites the flag package's error in the words users type:
// --name, and a suggestion for a flag that does not exist.
func explain(fs *flag.FlagSet, msg string) string {
	const unknown = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(msg, unknown); ok {
		if near := nearestFlag(fs, name); near != "" {
			return fmt.Sprintf("unknown flag --%s (did you mean --%s?)", name, near)
		}
		return fmt.Sprintf("unknown flag --%s", name)
	}
	for _, p := range []string{"flag needs an argument: -", "for flag -", " for -"} {
		if i := strings.Index(msg, p); i >= 0 && !strings.HasPrefix(msg[i+len(p):], "-") {
			msg = msg[:i+len(p)] + "-" + msg[i+len(p):]
		}
	}
	return msg
}

// nearestFlag is the defined flag closest to name, or "" if none is
// close.
func nearestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return spell.Nearest(name, names)
}
