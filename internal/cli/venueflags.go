package cli

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/node"
	"github.com/candlewire/candlewire/internal/sim"
)

// venueFlags are the flags of every command that reaches venues: the
// config file, repeated --ws-url VENUE=URL and --rest-url VENUE=URL
// (applied over the config file's venues), and --sim.
type venueFlags struct {
	config   string
	ws, rest map[string]string
	sim      bool
	speed    float64 // --sim-speed, where the command has it
	seed     uint64  // --sim-seed, where the command has it
}

// register adds the flags to fs; simUsage says what --sim does, and a
// speed other than 0 adds --sim-speed with that default.
func (v *venueFlags) register(fs *flag.FlagSet, simUsage string, speed float64) {
	v.ws, v.rest, v.speed, v.seed = map[string]string{}, map[string]string{}, 1, 1
	fs.StringVar(&v.config, "config", "", "YAML config file; flags override it")
	fs.Var(venueURL{v.ws, []string{"ws", "wss"}}, "ws-url", "a venue's WebSocket base, VENUE=URL (repeatable)")
	fs.Var(venueURL{v.rest, []string{"http", "https"}}, "rest-url", "a venue's REST base, VENUE=URL (repeatable)")
	fs.BoolVar(&v.sim, "sim", false, simUsage)
	if speed != 0 {
		fs.Float64Var(&v.speed, "sim-speed", speed, "simulated seconds per real second, with --sim")
	}
}

// origin is where the command's candles come from (node.OriginSim or
// node.OriginLive), for the store it writes.
func (v *venueFlags) origin() string {
	if v.sim {
		return node.OriginSim
	}
	return node.OriginLive
}

// load reads the config file, if any, and returns it with the venues'
// endpoints, the URL flags applied over them.
func (v *venueFlags) load() (config.Config, node.Endpoints, error) {
	cfg, err := config.Load(v.config) // the file if named, and CANDLEWIRE_* over it
	if err != nil {
		return cfg, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	eps := node.Endpoints(cfg.Venues).Override(v.ws, v.rest)
	return cfg, eps, eps.Check()
}

// start points eps at an in-process simulator when --sim is set (stop
// ends it); else it returns eps as they are.
func (v *venueFlags) start(eps node.Endpoints, log *slog.Logger) (_ node.Endpoints, stop func(), _ error) {
	if !v.sim {
		return eps, func() {}, nil
	}
	sc := v.simConfig()
	sc.Logger = log.With("component", "sim")
	return eps.StartSim(sc, log)
}

// simConfig is the simulator the flags ask for.
func (v *venueFlags) simConfig() sim.Config { return sim.Config{Seed: v.seed, Speed: v.speed} }

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
	if _, err := registry.Lookup(name); err != nil {
		return err
	}
	if err := config.CheckURL(raw, v.schemes...); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	v.into[name] = raw
	return nil
}
