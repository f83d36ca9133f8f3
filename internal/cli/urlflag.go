package cli

import (
	"flag"
	"fmt"
	"maps"
	"strings"

	"github.com/candlewire/candlewire/internal/config"
)

// urlOverrides collects repeated --ws-url VENUE=URL and --rest-url
// VENUE=URL flags. They are applied over the config file's venues.
type urlOverrides struct {
	ws, rest map[string]string
}

// register adds --ws-url and --rest-url to fs.
func (u *urlOverrides) register(fs *flag.FlagSet) {
	u.ws, u.rest = map[string]string{}, map[string]string{}
	fs.Var(venueURL{u.ws, []string{"ws", "wss"}}, "ws-url", "a venue's WebSocket base, VENUE=URL (repeatable)")
	fs.Var(venueURL{u.rest, []string{"http", "https"}}, "rest-url", "a venue's REST base, VENUE=URL (repeatable)")
}

// apply returns eps with the overrides set.
func (u *urlOverrides) apply(eps endpoints) endpoints {
	out := maps.Clone(eps)
	if out == nil {
		out = endpoints{}
	}
	for name, s := range u.ws {
		v := out[name]
		v.WSURL = s
		out[name] = v
	}
	for name, s := range u.rest {
		v := out[name]
		v.RESTURL = s
		out[name] = v
	}
	return out
}

// venueURL is one VENUE=URL flag kind; it checks the venue is known and the
// URL has one of the schemes.
type venueURL struct {
	into    map[string]string
	schemes []string
}

func (v venueURL) String() string { return "" }

func (v venueURL) Set(s string) error {
	name, raw, ok := strings.Cut(s, "=")
	if !ok || name == "" || raw == "" {
		return fmt.Errorf("want VENUE=URL, got %q", s)
	}
	if _, err := driver(name); err != nil {
		return err
	}
	if err := config.CheckURL(raw, v.schemes...); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	v.into[name] = raw
	return nil
}
